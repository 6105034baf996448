/** Outbound HTTP: one policy decided on the connected address, and the request helper that enforces it. See docs/architecture.md (Egress). */
export {
  createEgressPolicy,
  createOwnListeners,
  validEgressEntry,
  addressForms,
  METADATA_ADDRESSES,
  type EgressPolicy,
  type EgressOptions,
  type EgressVerdict,
  type OwnListeners,
  type ResolvedAddress,
  type Resolver,
} from './policy.js';
export { egressRequest, pinnedLookup, EgressRefusedError, type EgressRequest, type EgressResponse } from './request.js';
export { checkOutboundUrl, checkOutboundUrlNow, type UrlProblem } from './url-check.js';
