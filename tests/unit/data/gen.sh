#!/bin/sh
# How the test certificates here were made (run once; the expected values in
# tests/unit/test_cert.c were read from these files with openssl). Re-running
# makes new keys and dates, so the expectations would have to be updated.
set -eu
cd "$(dirname "$0")"
days=7300

# RSA 2048, self-signed, SANs: DNS names and IPv4/IPv6 addresses.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $days \
  -keyout rsa_self.key -out rsa_self.pem \
  -subj "/C=DE/O=smtp-probe tests/CN=rsa.test" \
  -addext "subjectAltName=DNS:rsa.test,DNS:*.wild.test,IP:127.0.0.1,IP:::1"

# A small CA (EC P-384) and an EC P-256 leaf it signs with SHA-384.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -sha384 \
  -days $days -keyout ca.key -out ca.pem -subj "/O=smtp-probe tests/CN=Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout leaf_ec.key -out leaf_ec.csr -subj "/O=smtp-probe tests/CN=leaf.test"
printf 'subjectAltName=DNS:leaf.test,DNS:mail.leaf.test\nextendedKeyUsage=serverAuth\n' > leaf_ec.ext
openssl x509 -req -in leaf_ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -sha384 -days $days -extfile leaf_ec.ext -out leaf_ec.pem
rm -f leaf_ec.csr leaf_ec.ext ca.srl

# No SAN at all, EC P-521: the subject CN is the only name.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -sha512 \
  -days $days -keyout cn_only.key -out cn_only.pem -subj "/CN=cn-only.test"

for f in rsa_self ca leaf_ec cn_only; do
  openssl x509 -in $f.pem -outform DER -out $f.der
done

# A NUL inside an RDN value and inside a DNS SAN (the classic NUL-in-name
# spoof): made with a placeholder byte, patched to 0x00 in the DER, then
# self-signed again so the signature is right.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -days $days -keyout nul_dn.key -out nul_dn.pem \
  -subj "/O=Trusted Bank Inc~, OU=x/CN=attacker.evil.test" \
  -addext "subjectAltName=DNS:mx~.evil.test"
openssl x509 -in nul_dn.pem -outform DER -out nul_dn.der
python3 -c "import sys; d = open('nul_dn.der', 'rb').read(); \
open('nul_dn.der', 'wb').write(d.replace(b'Inc~', b'Inc\0').replace(b'mx~', b'mx\0'))"
openssl x509 -inform DER -in nul_dn.der -signkey nul_dn.key -outform DER -out nul_dn.der
rm -f nul_dn.pem nul_dn.key

# The CA again, same key, its name in upper case: mbedTLS matches names
# ignoring ASCII case (UTF8String/PrintableString), so it also signs
# leaf_ec.pem (tests/unit/test_castore.c: the lazy trust store must find it).
# Made after the others, from ca.key; the others need not be re-made.
openssl req -x509 -key ca.key -sha384 -days $days -out ca_upper.pem \
  -subj "/O=SMTP-PROBE TESTS/CN=TEST CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
