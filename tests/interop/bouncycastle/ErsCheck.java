// BouncyCastle's reading of RFC 4998 evidence records, for preserve's interop tests.
//
//   ErsCheck verify ER_FILE DATA_FILE...
//       Checks the ER against the data files taken as one data-object group (a
//       single file: that single object) with org.bouncycastle.tsp.ers: the data
//       is present (validatePresent, as of now) and the last token's signature
//       holds under the TSA certificate the token carries (validate).
//       Prints "VALID" and exits 0, or "INVALID: reason" and exits 1.
//   ErsCheck seal-request REQ_OUT DATA_FILE...
//   ErsCheck seal-finish RESP_FILE ER_OUT DATA_FILE...
//       BouncyCastle writes a new ER: the SHA-256 TimeStampReq for the data
//       group, then, given the TSA's TimeStampResp, the record.
//   ErsCheck renew-ts-request ER_FILE REQ_OUT
//   ErsCheck renew-ts-finish ER_FILE RESP_FILE ER_OUT
//       Timestamp renewal as BouncyCastle writes it (renewTimeStamp).
//   ErsCheck renew-hash-request ER_FILE REQ_OUT DATA_FILE...
//   ErsCheck renew-hash-finish ER_FILE RESP_FILE ER_OUT DATA_FILE...
//       Hash-tree renewal to SHA-512 as BouncyCastle writes it (renewHash).
// Any other failure prints "ERROR: reason" and exits 2.
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.tsp.EvidenceRecord;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStampGenerator;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSData;
import org.bouncycastle.tsp.ers.ERSDataGroup;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;

public final class ErsCheck {
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) { super(message); }
  }

  public static void main(String[] args) {
    Security.addProvider(new BouncyCastleProvider());
    if (args.length < 1) usage();
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (args[0]) {
        case "verify": verify(rest); break;
        case "seal-request": sealRequest(rest); break;
        case "seal-finish": sealFinish(rest); break;
        case "renew-ts-request": renewTimeStampRequest(rest); break;
        case "renew-ts-finish": renewTimeStampFinish(rest); break;
        case "renew-hash-request": renewHashRequest(rest); break;
        case "renew-hash-finish": renewHashFinish(rest); break;
        default: usage();
      }
    } catch (Failure e) {
      System.out.println("INVALID: " + e.getMessage());
      System.exit(1);
    } catch (Exception e) {
      System.out.println("ERROR: " + e);
      System.exit(2);
    }
  }

  private static void usage() {
    System.err.println("usage: ErsCheck verify [--at TIME] ER_FILE DATA_FILE... | seal-request REQ_OUT DATA_FILE... |"
        + " seal-finish RESP_FILE ER_OUT DATA_FILE... | renew-ts-request ER REQ_OUT |"
        + " renew-ts-finish ER RESP ER_OUT | renew-hash-request ER REQ_OUT DATA_FILE... |"
        + " renew-hash-finish ER RESP ER_OUT DATA_FILE...");
    System.exit(2);
  }

  private static void need(String[] args, int count) {
    if (args.length < count) usage();
  }

  private static DigestCalculatorProvider digests() throws Exception {
    return new JcaDigestCalculatorProviderBuilder().setProvider("BC").build();
  }

  private static DigestCalculator digest(org.bouncycastle.asn1.ASN1ObjectIdentifier oid) throws Exception {
    return digests().get(new AlgorithmIdentifier(oid));
  }

  private static byte[] read(String path) throws IOException {
    return Files.readAllBytes(Paths.get(path));
  }

  // One file: a single data object; several: one data-object group.
  private static ERSData data(String[] files, int from) throws IOException {
    List<ERSData> objects = new ArrayList<>();
    for (int i = from; i < files.length; ++i) objects.add(new ERSByteData(read(files[i])));
    if (objects.isEmpty()) usage();
    return objects.size() == 1 ? objects.get(0) : new ERSDataGroup(objects);
  }

  private static BigInteger nonce() {
    return new BigInteger(63, new SecureRandom());
  }

  private static TimeStampRequestGenerator requests() {
    TimeStampRequestGenerator generator = new TimeStampRequestGenerator();
    generator.setCertReq(true);
    return generator;
  }

  // verify [--at ISO-8601-UTC] ER_FILE DATA_FILE...: --at sets the time the data
  // must be shown present at (default now); simulated-time records need it.
  private static void verify(String[] args) throws Exception {
    Date at = new Date();
    if (args.length >= 2 && args[0].equals("--at")) {
      at = Date.from(java.time.Instant.parse(args[1]));
      args = Arrays.copyOfRange(args, 2, args.length);
    }
    need(args, 2);
    ERSEvidenceRecord record;
    try {
      record = new ERSEvidenceRecord(read(args[0]), digests());
    } catch (Exception e) {
      throw new Failure("cannot read the evidence record: " + e.getMessage());
    }
    try {
      record.validatePresent(data(args, 1), at);
    } catch (Exception e) {
      throw new Failure("data not covered: " + e.getMessage());
    }
    X509CertificateHolder tsa = record.getSigningCertificate();
    if (tsa == null) throw new Failure("the last token carries no TSA certificate");
    try {
      SignerInformationVerifier verifier = new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsa);
      record.validate(verifier);
    } catch (Exception e) {
      throw new Failure("token does not verify: " + e.getMessage());
    }
    System.out.println("VALID");
  }

  private static ERSArchiveTimeStampGenerator sealGenerator(String[] files, int from) throws Exception {
    ERSArchiveTimeStampGenerator generator = new ERSArchiveTimeStampGenerator(digest(NISTObjectIdentifiers.id_sha256));
    generator.addData(data(files, from));
    return generator;
  }

  private static void sealRequest(String[] args) throws Exception {
    need(args, 2);
    TimeStampRequest request = sealGenerator(args, 1).generateTimeStampRequest(requests(), nonce());
    Files.write(Paths.get(args[0]), request.getEncoded());
  }

  private static void sealFinish(String[] args) throws Exception {
    need(args, 3);
    TimeStampResponse response = new TimeStampResponse(read(args[0]));
    ERSArchiveTimeStamp ats = sealGenerator(args, 2).generateArchiveTimeStamp(response);
    EvidenceRecord record = new EvidenceRecord(null, null, ats.toASN1Structure());
    Files.write(Paths.get(args[1]), record.getEncoded());
  }

  private static void renewTimeStampRequest(String[] args) throws Exception {
    need(args, 2);
    ERSEvidenceRecord record = new ERSEvidenceRecord(read(args[0]), digests());
    Files.write(Paths.get(args[1]), record.generateTimeStampRenewalRequest(requests(), nonce()).getEncoded());
  }

  private static void renewTimeStampFinish(String[] args) throws Exception {
    need(args, 3);
    ERSEvidenceRecord record = new ERSEvidenceRecord(read(args[0]), digests());
    ERSEvidenceRecord renewed = record.renewTimeStamp(new TimeStampResponse(read(args[1])));
    Files.write(Paths.get(args[2]), renewed.getEncoded());
  }

  private static void renewHashRequest(String[] args) throws Exception {
    need(args, 3);
    ERSEvidenceRecord record = new ERSEvidenceRecord(read(args[0]), digests());
    TimeStampRequest request = record.generateHashRenewalRequest(
        digest(NISTObjectIdentifiers.id_sha512), data(args, 2), requests(), nonce());
    Files.write(Paths.get(args[1]), request.getEncoded());
  }

  private static void renewHashFinish(String[] args) throws Exception {
    need(args, 4);
    ERSEvidenceRecord record = new ERSEvidenceRecord(read(args[0]), digests());
    ERSEvidenceRecord renewed = record.renewHash(
        digest(NISTObjectIdentifiers.id_sha512), data(args, 3), new TimeStampResponse(read(args[1])));
    Files.write(Paths.get(args[2]), renewed.getEncoded());
  }
}
