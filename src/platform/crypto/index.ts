export { createEnvelope, MasterKeyMissingError, SecretDecryptionError, type Envelope, type RecordRef, type WrappedKey } from './envelope.js';
export { appendKeyToFile, createKeyRing, generateMasterKeyEntry, keyFilePath, loadKeyRing, KEY_FILE_NAME, type KeyRing, type MasterKey } from './key-ring.js';
