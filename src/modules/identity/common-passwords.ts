/**
 * Passwords this domain's users are likely to pick (product and vendor names, long keyboard
 * walks that a 12-character minimum still lets through), on top of the published list below.
 */
const OWN: readonly string[] = `123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123 abc123 1234 password1
iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein 654321 monkey 27653 1qaz2wsx
123321 qwertyuiop superman asdfghjkl 666666 121212 football baseball welcome shadow master michael
jennifer hunter2 trustno1 starwars passw0rd admin admin123 administrator root toor changeme default
secret login welcome1 qwerty12345 password123 password1234 password12345 password123456 passwordpassword
qwertyuiop123 qwertyuiop1234 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq1zaq1zaq1
123456789012 1234567890123 12345678901234 123456789a 123456789abc abcdefghijkl abcdefghijklmnop
abc123456789 aaaaaaaaaaaa 111111111111 000000000000 123123123123 qazwsxedcrfv qwertyqwerty
asdfasdfasdf iloveyou1234 iloveyouforever letmein12345 letmeinplease welcome12345 welcome123456
changeme1234 changemenow adminadmin123 administrator1 administrator123 superman1234 batman123456
football1234 baseball1234 princess1234 sunshine1234 trustno1trustno1 monkey123456 dragon123456
p@ssw0rd1234 p@ssword1234 passw0rd1234 pa55word1234 pa$$word1234 password!234 password.1234
correcthorsebatterystaple opsdeck opsdeck123 opsdeckadmin opsdeck12345 opsdeck123456 netadmin123456
cisco cisco123 cisco12345678 cisco123456789 juniper123456 network12345 networkadmin
qwerty1234567 qwerty123456 qwerty12345678 asdfghjkl123 asdfghjkl1234 zxcvbnm123456 zxcvbnmasdfg
mypassword123 mypassword1234 thisismypassword secretpassword supersecret123 supersecretpassword
summer2024!! winter2024!! spring2024!! autumn2024!! summer2025!! winter2025!! spring2025!!
password2023 password2024 password2025 password2026 welcome2024! welcome2025! welcome2026!
000000000000000 999999999999 987654321000 9876543210987 0987654321 098765432109 147258369147
michael12345 jennifer1234 charlie12345 jordan231234 liverpool1234 chelsea12345 arsenal12345
pokemon12345 minecraft123 minecraft1234 starwars1234 whatever1234 freedom12345 computer1234
internet1234 babygirl1234 butterfly123 sweetheart12 loveyou12345 trustme12345 iloveu123456`
  .split(/\s+/)
  .filter(Boolean);

/**
 * Common passwords (lower-case): zxcvbn-ts's `passwords-common` (about 49,000, ordered by
 * frequency in breach corpora; a maintained data package, not a copy here) and OWN. The policy
 * rejects these in any letter case; it is a floor, not a breach-corpus check.
 * NOTE: loaded on the first password check, not at import: the data module costs ~50 ms to
 * load, which every process start (server, worker, each CLI command) paid before.
 */
let common: Promise<ReadonlySet<string>> | undefined;
export function commonPasswords(): Promise<ReadonlySet<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set([...(dictionary['passwords-common'] as readonly string[]).map((p) => p.toLowerCase()), ...OWN]),
  );
  return common;
}
