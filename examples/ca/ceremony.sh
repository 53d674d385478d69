#!/usr/bin/env bash
# The Wardcert key ceremony in one script. Run the root steps on the offline machine and carry only
# the request and the signed certificate across; here both halves run in one place for a rehearsal.
#
#   WARDCERT_ROOT_PASSPHRASE=... WARDCERT_CA_PASSPHRASE=... ./ceremony.sh ROOT_DIR DATA_DIR
set -euo pipefail
root=${1:?root directory (removable media)}
data=${2:?CA data directory}
# The checkout this script lives in, so it runs from any directory (npx alone looks only upwards of it).
repo=$(cd "$(dirname "$0")/../.." && pwd)
ca() { "$repo/node_modules/.bin/wardcert-ca" "$@"; }

ca root init --dir "$root" --subject "CN=Example Hospital Root CA,O=Example Hospital" --algorithm ecdsa-p384 --years 20
ca intermediate request --data "$data" --subject "CN=Example Hospital Device CA,O=Example Hospital" --algorithm ecdsa-p384
ca root sign --dir "$root" --csr "$data/ca/intermediate.csr.pem" --out "$root/intermediate.crt.pem" --days 1825 \
  --permit-dns hospital.example --permit-ip 10.20.0.0/16 --exclude-dns guest.hospital.example \
  --crl-url http://pki.hospital.example/root.crl
ca root crl --dir "$root" --out "$root/root.crl" --days 90
ca intermediate install --data "$data" --cert "$root/intermediate.crt.pem" --root "$root/root.crt.pem"
openssl verify -CAfile "$data/ca/root.crt.pem" "$data/ca/intermediate.crt.pem"
openssl crl -inform DER -in "$root/root.crl" -CAfile "$root/root.crt.pem" -noout
