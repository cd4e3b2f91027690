"""How long the in-process SAML crypto takes: prints figures, asserts nothing.

    .venv/bin/python bench/saml_crypto.py [rounds]

Times, for one realistic assertion (pysaml2 IdP response, 2048-bit RSA keys), the IdP
side (sign the assertion, encrypt it, sign the response) and the SP side (verify +
decrypt + verify), both through pysaml2's SecurityContext with idp.saml.crypto_backend
installed. For comparison, pysaml2's default backend spawns `xmlsec1` once per operation,
reported at ~45 ms for a sign + encrypt (xmlsec1 is not installed here, so not measured).
"""
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from idp.saml import crypto_backend  # noqa: E402

crypto_backend.install()

from saml2 import class_name, samlp  # noqa: E402
from saml2.config import Config  # noqa: E402
from saml2.saml import Assertion, Attribute, AttributeStatement, AttributeValue, Issuer  # noqa: E402
from saml2.sigver import pre_encrypt_assertion, pre_encryption_part, pre_signature_part  # noqa: E402
from saml2.sigver import security_context  # noqa: E402
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256  # noqa: E402


def keypair(directory, name):
    """RSA-2048 key and self-signed certificate written as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def response_template(cert_b64):
    """A Response with one assertion carrying ten attributes, signature templates in place."""
    attributes = [Attribute(name=f"urn:oid:1.3.6.1.4.1.5923.1.1.1.{i}",
                            attribute_value=[AttributeValue(text=f"value-{i}@example.test")])
                  for i in range(10)]
    assertion = Assertion(id="a1", version="2.0", issue_instant="2024-01-01T00:00:00Z",
                          issuer=Issuer(text="https://idp.example.test"),
                          attribute_statement=[AttributeStatement(attribute=attributes)])
    assertion.signature = pre_signature_part("a1", cert_b64, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    response = samlp.Response(id="r1", version="2.0", issue_instant="2024-01-01T00:00:00Z",
                              issuer=Issuer(text="https://idp.example.test"), assertion=assertion)
    response.signature = pre_signature_part("r1", cert_b64, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    return pre_encrypt_assertion(response)  # what pysaml2 does before signing the assertion


def timed(function, rounds):
    """Median and mean wall time of ``function()`` in milliseconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), statistics.fmean(samples)


def main(rounds=200):
    """Run the measurements and print one line per operation."""
    with tempfile.TemporaryDirectory() as directory:
        run(Path(directory), rounds)


def run(directory, rounds):
    """Build both sides' security contexts in ``directory`` and time each operation."""
    idp_key, idp_crt = keypair(directory, "idp")
    sp_key, sp_crt = keypair(directory, "sp")
    cert_b64 = "".join(Path(idp_crt).read_text().splitlines()[1:-1])
    sp_cert_b64 = "".join(Path(sp_crt).read_text().splitlines()[1:-1])
    idp = security_context(Config().load({"key_file": idp_key, "cert_file": idp_crt}))
    sp = security_context(Config().load({"key_file": sp_key, "cert_file": sp_crt}))
    response = response_template(cert_b64)
    assertion_class, response_class = class_name(Assertion()), class_name(response)
    template = str(response)

    def idp_side():
        xml = idp.sign_statement(template, assertion_class, node_id="a1")
        xml = idp.encrypt_assertion(xml, sp_crt, pre_encryption_part(encrypt_cert=sp_cert_b64))
        return idp.sign_statement(xml, response_class, node_id="r1")

    signed = idp_side()

    def sp_side():
        assert sp.verify_signature(signed, idp_crt, node_name=response_class, node_id="r1")
        plain = sp.decrypt(signed, sp_key)
        assert sp.verify_signature(plain, idp_crt, node_name=assertion_class, node_id="a1")

    steps = {
        "sign assertion": lambda: idp.sign_statement(template, assertion_class, node_id="a1"),
        "encrypt assertion (AES-256-GCM, RSA-OAEP)": lambda: idp.encrypt_assertion(
            template, sp_crt, pre_encryption_part(encrypt_cert=sp_cert_b64)),
        "IdP: sign + encrypt + sign response": idp_side,
        "SP: verify + decrypt + verify": sp_side,
    }
    print(f"libxmlsec1 {idp.crypto.version}, {rounds} rounds, response of {len(signed)} bytes")
    for name, function in steps.items():
        median, mean = timed(function, rounds)
        print(f"{name:45s} median {median:6.2f} ms   mean {mean:6.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
