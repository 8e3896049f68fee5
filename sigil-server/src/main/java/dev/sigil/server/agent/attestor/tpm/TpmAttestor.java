package dev.sigil.server.agent.attestor.tpm;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.proto.agent.v1.TpmAnswer;
import dev.sigil.proto.agent.v1.TpmChallenge;
import dev.sigil.proto.agent.v1.TpmEvidence;
import dev.sigil.proto.agent.v1.TpmQuote;
import dev.sigil.proto.agent.v1.TpmQuoteChallenge;
import dev.sigil.server.agent.attestor.AttestationStep;
import dev.sigil.server.agent.attestor.ContinuousAttestor;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tpm}: TPM 2.0 node attestation with continuous quotes.
 *
 * <p>Flow: the evidence ({@link TpmEvidence}) carries the EK certificate, the EK's and the AK's public
 * areas. The EK is trusted when its certificate chains (PKIX, at the injected clock's time) to a
 * configured manufacturer CA and certifies exactly that EK key, or when the EK key's hash is on the allow
 * list. The AK must be a restricted, TPM-generated, non-duplicable signing key. The server then sends one
 * challenge ({@link TpmChallenge}): a fresh 32-byte secret wrapped by {@link MakeCredential} to the EK and
 * the AK's name, and a fresh 32-byte quote nonce with the required PCR selection. The answer must hold the
 * secret (only that TPM can unwrap it, and only for that AK: the AK is resident beside the EK) and a quote
 * that {@link QuoteVerifier} accepts; its PCR values must meet at least one PCR policy (when any is
 * configured). Each challenge is answerable once.
 *
 * <p>Result: agent ID {@code spiffe://<td>/sigil/agent/tpm/<ek_pubhash>} where ek_pubhash is the
 * SHA-256 (hex) of the EK's DER SubjectPublicKeyInfo; selectors {@code tpm:ek_pubhash:<hash>},
 * {@code tpm:ekcert_subject:<subject dn>}, {@code tpm:pcr:<n>:<sha256 hex>} per required PCR and
 * {@code tpm:policy:<name>} per policy met; trust level 3 (hardware-rooted).
 *
 * <p>Continuous: while the agent runs it answers a new quote challenge every quote interval. A verified
 * quote outside every policy is {@link Verdict.Drifted node drift}; a node whose last verified quote is
 * older than twice the interval has trust level 0. State is kept in memory: after a server restart an
 * agent's quotes are answered {@link Verdict.Unknown} until it attests again.
 */
public final class TpmAttestor implements ContinuousAttestor {
    public static final String TYPE = "tpm";
    static final int TRUST_LEVEL = 3;
    private static final int SECRET_BYTES = 32;
    private static final int NONCE_BYTES = 32;
    private static final int MAX_EVIDENCE_BYTES = 16 * 1024;

    /** What the server trusts and requires. */
    public record Trust(List<X509Certificate> manufacturerCas, Set<String> ekAllowList, SortedSet<Integer> pcrSelection,
                        List<PcrPolicy> policies, Duration quoteInterval) {
        public Trust {
            manufacturerCas = List.copyOf(manufacturerCas);
            ekAllowList = Set.copyOf(ekAllowList);
            pcrSelection = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(pcrSelection));
            policies = List.copyOf(policies);
            Objects.requireNonNull(quoteInterval, "quoteInterval");
            if (manufacturerCas.isEmpty() && ekAllowList.isEmpty()) {
                throw new IllegalArgumentException("tpm attestation needs an ek ca bundle or an ek allow list");
            }
            if (pcrSelection.isEmpty()) {
                throw new IllegalArgumentException("tpm attestation needs at least one pcr in the selection");
            }
        }
    }

    private final TrustDomain trustDomain;
    private final Trust trust;
    private final Clock clock;
    private final SecureRandom random;
    private final Map<SpiffeId, Node> nodes = new ConcurrentHashMap<>();

    public TpmAttestor(TrustDomain trustDomain, Trust trust, Clock clock, SecureRandom random) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.trust = Objects.requireNonNull(trust, "trust");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AttestationStep begin(byte[] evidence, String actor) {
        if (evidence == null || evidence.length == 0 || evidence.length > MAX_EVIDENCE_BYTES) {
            return new AttestationStep.Malformed("tpm evidence is " + (evidence == null ? 0 : evidence.length)
                    + " bytes; expected 1 to " + MAX_EVIDENCE_BYTES);
        }
        TpmEvidence parsed;
        TpmPublic ek;
        TpmPublic ak;
        try {
            parsed = TpmEvidence.parseFrom(evidence);
            ek = TpmPublic.parse(parsed.getEkPublic().toByteArray(), "ek public area");
            ak = TpmPublic.parse(parsed.getAkPublic().toByteArray(), "ak public area");
        } catch (InvalidProtocolBufferException e) {
            return new AttestationStep.Malformed("tpm evidence is not a TpmEvidence message: " + e.getMessage());
        } catch (TpmFormatException e) {
            return new AttestationStep.Malformed("tpm evidence: " + e.getMessage());
        }
        String ekHash = HexFormat.of().formatHex(TpmPublic.sha256(ek.key().getEncoded()));
        if (!ek.has(TpmPublic.RESTRICTED | TpmPublic.DECRYPT | TpmPublic.FIXED_TPM) || ek.symmetric() != TpmPublic.ALG_AES) {
            return new AttestationStep.Refused("ek " + ekHash + " has attributes 0x" + Long.toHexString(ek.attributes())
                    + "; an endorsement key is a restricted, fixedTPM decryption key with an aes-128-cfb symmetric");
        }
        long akRequired = TpmPublic.RESTRICTED | TpmPublic.SIGN | TpmPublic.FIXED_TPM | TpmPublic.FIXED_PARENT
                | TpmPublic.SENSITIVE_DATA_ORIGIN;
        if (!ak.has(akRequired) || ak.has(TpmPublic.DECRYPT) || ak.scheme() != TpmPublic.ALG_RSASSA
                || ak.schemeHash() != TpmPublic.ALG_SHA256) {
            return new AttestationStep.Refused("ak has attributes 0x" + Long.toHexString(ak.attributes()) + " and scheme 0x"
                    + Integer.toHexString(ak.scheme()) + "; an attestation key is a restricted, fixedTPM, fixedParent, "
                    + "tpm-generated rsassa-sha256 signing key that cannot decrypt");
        }
        Optional<X509Certificate> certificate;
        try {
            certificate = trustedEk(parsed.getEkCertificate().toByteArray(), ek, ekHash);
        } catch (EkRefused e) {
            return new AttestationStep.Refused(e.getMessage());
        }
        byte[] secret = fresh(SECRET_BYTES);
        byte[] nonce = fresh(NONCE_BYTES);
        MakeCredential.Wrapped wrapped = MakeCredential.wrap(ek, ak.name(), secret, random);
        TpmChallenge challenge = TpmChallenge.newBuilder()
                .setCredentialBlob(ByteString.copyFrom(wrapped.credentialBlob()))
                .setEncryptedSecret(ByteString.copyFrom(wrapped.encryptedSecret()))
                .setQuote(quoteChallenge(nonce))
                .setQuoteIntervalMillis(trust.quoteInterval().toMillis())
                .build();
        AtomicBoolean answered = new AtomicBoolean();
        return new AttestationStep.Challenge(challenge.toByteArray(), response -> {
            if (!answered.compareAndSet(false, true)) {
                return new AttestationStep.Refused("tpm challenge was already answered");
            }
            return finish(ek, ak, ekHash, certificate, secret, nonce, response);
        });
    }

    private AttestationStep finish(TpmPublic ek, TpmPublic ak, String ekHash, Optional<X509Certificate> certificate, byte[] secret,
                                   byte[] nonce, byte[] response) {
        TpmAnswer answer;
        try {
            answer = TpmAnswer.parseFrom(response);
        } catch (InvalidProtocolBufferException e) {
            return new AttestationStep.Malformed("tpm answer is not a TpmAnswer message: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(secret, answer.getActivatedSecret().toByteArray())) {
            return new AttestationStep.Refused("credential activation failed: the agent did not recover the secret made for ak "
                    + HexFormat.of().formatHex(ak.name()) + " under ek " + ekHash + ", so the ak is not proven resident on that tpm");
        }
        SortedMap<Integer, String> pcrs;
        try {
            pcrs = QuoteVerifier.verify(ak, answer.getQuote(), nonce, trust.pcrSelection());
        } catch (QuoteRefusedException e) {
            return e.malformed() ? new AttestationStep.Malformed("tpm quote: " + e.getMessage())
                    : new AttestationStep.Refused("tpm quote: " + e.getMessage());
        }
        List<String> met = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        for (PcrPolicy policy : trust.policies()) {
            policy.mismatch(pcrs).ifPresentOrElse(mismatches::add, () -> met.add(policy.name()));
        }
        if (!trust.policies().isEmpty() && met.isEmpty()) {
            return new AttestationStep.Refused("tpm pcrs meet no pcr policy: " + String.join("; ", mismatches));
        }
        List<Selector> selectors = new ArrayList<>();
        selectors.add(Selector.of(TYPE, "ek_pubhash:" + ekHash));
        certificate.flatMap(TpmAttestor::subjectSelector).ifPresent(selectors::add);
        selectors.addAll(pcrSelectors(pcrs, met));
        SpiffeId agentId = trustDomain.id("/sigil/agent/" + TYPE + "/" + ekHash);
        nodes.put(agentId, new Node(ak, selectors, clock.instant()));
        return new AttestationStep.Attested(agentId, selectors, TRUST_LEVEL);
    }

    private static List<Selector> pcrSelectors(Map<Integer, String> pcrs, List<String> policies) {
        List<Selector> selectors = new ArrayList<>();
        pcrs.forEach((pcr, value) -> selectors.add(Selector.of(TYPE, "pcr:" + pcr + ":" + value)));
        policies.forEach(name -> selectors.add(Selector.of(TYPE, "policy:" + name)));
        return selectors;
    }

    /** {@code tpm:ekcert_subject:<dn>}; none for a subject no selector can hold (empty, or longer than a selector value). */
    private static Optional<Selector> subjectSelector(X509Certificate certificate) {
        String subject = certificate.getSubjectX500Principal().getName();
        try {
            return subject.isEmpty() ? Optional.empty() : Optional.of(Selector.of(TYPE, "ekcert_subject:" + subject));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The EK certificate, when it chained to a manufacturer CA; empty when the EK is trusted by the allow list. */
    private Optional<X509Certificate> trustedEk(byte[] der, TpmPublic ek, String ekHash) {
        boolean allowListed = trust.ekAllowList().contains(ekHash);
        if (der.length == 0) {
            if (allowListed) {
                return Optional.empty();
            }
            throw new EkRefused("ek " + ekHash + " came without a certificate and is not on ek_allow_list");
        }
        X509Certificate certificate;
        try {
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new EkRefused("ek certificate is not a der x.509 certificate: " + e.getMessage());
        }
        String subject = "'" + certificate.getSubjectX500Principal().getName() + "'";
        if (!(certificate.getPublicKey() instanceof java.security.interfaces.RSAPublicKey key)
                || !key.getModulus().equals(ek.key().getModulus()) || !key.getPublicExponent().equals(ek.key().getPublicExponent())) {
            throw new EkRefused("ek certificate " + subject + " certifies another key than the tpm's ek " + ekHash);
        }
        if (trust.manufacturerCas().isEmpty()) {
            if (allowListed) {
                return Optional.of(certificate);
            }
            throw new EkRefused("ek " + ekHash + " is not on ek_allow_list (no ek ca bundle is configured)");
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            trust.manufacturerCas().forEach(ca -> anchors.add(new TrustAnchor(ca, null)));
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(certificate)),
                    parameters);
            return Optional.of(certificate);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (allowListed) {
                return Optional.of(certificate);
            }
            throw new EkRefused("ek certificate " + subject + " issued by '" + certificate.getIssuerX500Principal().getName()
                    + "' does not chain to a configured manufacturer ca at " + clock.instant() + ": " + e.getMessage());
        }
    }

    @Override
    public Optional<byte[]> challenge(SpiffeId agent) {
        Node node = nodes.get(agent);
        if (node == null) {
            return Optional.empty();
        }
        byte[] nonce = fresh(NONCE_BYTES);
        node.expect(nonce);
        return Optional.of(quoteChallenge(nonce).toByteArray());
    }

    @Override
    public Verdict verify(SpiffeId agent, byte[] answer) {
        Node node = nodes.get(agent);
        if (node == null) {
            return new Verdict.Unknown("no tpm attestation of agent " + agent + " is on record on this server; attest again");
        }
        TpmQuote quote;
        try {
            quote = TpmQuote.parseFrom(answer);
        } catch (InvalidProtocolBufferException e) {
            return new Verdict.Refused("tpm quote is not a TpmQuote message: " + e.getMessage(), true);
        }
        Optional<byte[]> nonce = node.take();
        if (nonce.isEmpty()) {
            return new Verdict.Refused("no quote challenge is outstanding for agent " + agent
                    + " (each challenge is answerable once); ask for a new one", false);
        }
        SortedMap<Integer, String> pcrs;
        try {
            pcrs = QuoteVerifier.verify(node.ak, quote, nonce.get(), trust.pcrSelection());
        } catch (QuoteRefusedException e) {
            return new Verdict.Refused("tpm quote: " + e.getMessage(), e.malformed());
        }
        List<String> met = new ArrayList<>();
        List<String> mismatches = new ArrayList<>();
        for (PcrPolicy policy : trust.policies()) {
            policy.mismatch(pcrs).ifPresentOrElse(mismatches::add, () -> met.add(policy.name()));
        }
        if (!trust.policies().isEmpty() && met.isEmpty()) {
            nodes.remove(agent);
            List<Selector> after = new ArrayList<>(node.selectors.stream().filter(s -> !s.value().startsWith("pcr:")
                    && !s.value().startsWith("policy:")).toList());
            after.addAll(pcrSelectors(pcrs, met));
            return new Verdict.Drifted("tpm pcrs meet no pcr policy: " + String.join("; ", mismatches), node.selectors, after);
        }
        node.quoted(clock.instant());
        return new Verdict.Accepted("pcrs " + pcrs.keySet() + " meet " + (met.isEmpty() ? "(no policy configured)" : "policy " + met));
    }

    @Override
    public int trustLevel(SpiffeId agent, int attested) {
        Node node = nodes.get(agent);
        if (node == null) {
            return 0;
        }
        Instant overdue = node.lastQuote().plus(trust.quoteInterval().multipliedBy(2));
        return clock.instant().isAfter(overdue) ? 0 : attested;
    }

    @Override
    public java.util.Optional<Instant> lastEvidenceAt(SpiffeId agent) {
        Node node = nodes.get(agent);
        return node == null ? java.util.Optional.empty() : java.util.Optional.of(node.lastQuote());
    }

    /** The configured quote interval: the agent quotes this often, and policy stops trusting a node after twice this. */
    public Duration quoteInterval() {
        return trust.quoteInterval();
    }

    private TpmQuoteChallenge quoteChallenge(byte[] nonce) {
        return TpmQuoteChallenge.newBuilder().setNonce(ByteString.copyFrom(nonce)).addAllPcrs(trust.pcrSelection()).build();
    }

    private byte[] fresh(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    @Override
    public String toString() {
        return "TpmAttestor[" + trustDomain + ", " + trust.manufacturerCas().size() + " ek ca(s), " + trust.ekAllowList().size()
                + " allow-listed ek(s), pcrs " + trust.pcrSelection() + ", " + trust.policies().size() + " policies]";
    }

    /** An attested node: its AK, its selectors as attested, when it last quoted, the one outstanding nonce. */
    private static final class Node {
        private final TpmPublic ak;
        private final List<Selector> selectors;
        private Instant lastQuote;
        private byte[] nonce;

        Node(TpmPublic ak, List<Selector> selectors, Instant attestedAt) {
            this.ak = ak;
            this.selectors = List.copyOf(selectors);
            this.lastQuote = attestedAt;
        }

        synchronized void expect(byte[] fresh) {
            nonce = fresh;
        }

        synchronized Optional<byte[]> take() {
            byte[] taken = nonce;
            nonce = null;
            return Optional.ofNullable(taken);
        }

        synchronized void quoted(Instant at) {
            lastQuote = at;
        }

        synchronized Instant lastQuote() {
            return lastQuote;
        }
    }

    private static final class EkRefused extends RuntimeException {
        EkRefused(String message) {
            super(message, null, false, false);
        }
    }
}
