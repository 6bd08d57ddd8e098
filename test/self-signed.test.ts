/**
 * `selfSignedCertificate()` (fastify-sso/testing): the DER it writes parses, every time. The serial
 * number is random; one whose first byte came out as 0x00 was a non-minimal INTEGER that OpenSSL
 * refused ("illegal padding") about once in 256 certificates.
 */
import { test } from 'tap'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { selfSignedCertificate } from '../src/testing/index.ts'

test('600 certificates in a row all parse, with their key, subject and validity', async (t) => {
  let parsed = 0
  for (let i = 0; i < 600; i++) {
    const { certificate, privateKey } = selfSignedCertificate({ commonName: 'app.example.com', modulusLength: 1024, days: 2 })
    const x509 = new X509Certificate(certificate)
    if (x509.subject === 'CN=app.example.com' && x509.checkPrivateKey(createPrivateKey(privateKey)) && /^[4-7]/.test(x509.serialNumber)) parsed++
  }
  t.equal(parsed, 600)
})
