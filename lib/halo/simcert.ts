/**
 * A throw-away self-signed certificate (CN=halo-sim, localhost/127.0.0.1, EC P-256) for the
 * simulator's HTTPS Event Data URL, like the self-signed certificate a real HALO ships.
 * Not a secret: it protects nothing and exists only so HTTPS can be demonstrated offline.
 */
export const SIM_CERT = `-----BEGIN CERTIFICATE-----
MIIBlzCCAT2gAwIBAgIUGlg+5+WRovHldgWPF/vS565PFzYwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIaGFsby1zaW0wHhcNMjYxMTIyMDMwOTIyWhcNMzYxMTE5MDMw
OTIyWjATMREwDwYDVQQDDAhoYWxvLXNpbTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABD+1tS1iZ4C5/z6Eb+8YeYzE81D894sMdJVrECgwl4dvnbdI6RZ+KNPDXwaf
mWm5YYHdJCMYY8zzt2K0jEmgnimjbzBtMB0GA1UdDgQWBBQD/tjFvAmLOEZWtQTD
j3uR6UdYiDAfBgNVHSMEGDAWgBQD/tjFvAmLOEZWtQTDj3uR6UdYiDAPBgNVHRMB
Af8EBTADAQH/MBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAKBggqhkjOPQQD
AgNIADBFAiEA+tuuPr6Tr5cgQRRTPenbGIM9sC8W5IUeW0Zb0z808TwCIFEVpW/3
7tbm9HB65j2ltJZCUPkyRiq/ncIFuZxl8W6Y
-----END CERTIFICATE-----
`;

export const SIM_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgd5M/Y6OHozk9jIBR
XlsB4da6fhOhaKhfTbQqbLeGTo6hRANCAAQ/tbUtYmeAuf8+hG/vGHmMxPNQ/PeL
DHSVaxAoMJeHb523SOkWfijTw18Gn5lpuWGB3SQjGGPM87ditIxJoJ4p
-----END PRIVATE KEY-----
`;
