package dev.sigil.agent.attestor;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sigil.proto.agent.v1.TpmAnswer;
import dev.sigil.proto.agent.v1.TpmChallenge;
import dev.sigil.proto.agent.v1.TpmEvidence;
import dev.sigil.proto.agent.v1.TpmQuote;
import dev.sigil.proto.agent.v1.TpmQuoteChallenge;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Agent side of {@code tpm}: presents the EK (certificate and public area) and a fresh AK, activates the
 * credential the server made for that AK, and quotes the PCRs the server names with the server's nonce,
 * at attestation and then every quote interval the server asked for. Keys never leave the TPM.
 */
public final class TpmAttestorClient implements NodeAttestorClient, ContinuousEvidence {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TpmAttestorClient.class);
    public static final String TYPE = "tpm";
    private static final int MIN_NONCE_BYTES = 16;
    private static final int MAX_NONCE_BYTES = 64;
    private static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

    private final TpmTools tpm;
    private volatile Duration interval = Duration.ofSeconds(10);
    private volatile boolean attested;

    public TpmAttestorClient(TpmTools tpm) {
        this.tpm = Objects.requireNonNull(tpm, "tpm");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public byte[] evidence() {
        TpmTools.Keys keys = tpm.createKeys();
        return TpmEvidence.newBuilder().setEkCertificate(ByteString.copyFrom(keys.ekCertificate()))
                .setEkPublic(ByteString.copyFrom(keys.ekPublic())).setAkPublic(ByteString.copyFrom(keys.akPublic())).build().toByteArray();
    }

    @Override
    public byte[] respond(byte[] challenge) {
        TpmChallenge parsed;
        try {
            parsed = TpmChallenge.parseFrom(challenge);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("tpm challenge is not a TpmChallenge message: " + e.getMessage(), e);
        }
        byte[] secret;
        try {
            secret = tpm.activate(parsed.getCredentialBlob().toByteArray(), parsed.getEncryptedSecret().toByteArray());
        } catch (TpmTools.TpmException e) {
            // the tpm refuses credentials not made for its ek and this ak: answer without the secret, so the
            // server refuses the attestation with its reason (the ak is not proven resident)
            LOG.warn("the tpm could not activate the server's credential: {}", e.getMessage());
            secret = new byte[0];
        }
        TpmQuote quote = quote(parsed.getQuote());
        Duration asked = Duration.ofMillis(parsed.getQuoteIntervalMillis());
        interval = asked.compareTo(MIN_INTERVAL) < 0 ? MIN_INTERVAL : asked;
        attested = true;
        return TpmAnswer.newBuilder().setActivatedSecret(ByteString.copyFrom(secret)).setQuote(quote).build().toByteArray();
    }

    @Override
    public boolean renewsEvidence() {
        return true;
    }

    @Override
    public Optional<ContinuousEvidence> continuous() {
        return attested ? Optional.of(this) : Optional.empty();
    }

    @Override
    public Duration interval() {
        return interval;
    }

    @Override
    public byte[] answer(byte[] challenge) {
        try {
            return quote(TpmQuoteChallenge.parseFrom(challenge)).toByteArray();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("tpm quote challenge is not a TpmQuoteChallenge message: " + e.getMessage(), e);
        }
    }

    private TpmQuote quote(TpmQuoteChallenge challenge) {
        byte[] nonce = challenge.getNonce().toByteArray();
        if (nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_NONCE_BYTES) {
            throw new IllegalArgumentException("tpm quote nonce is " + nonce.length + " bytes; expected " + MIN_NONCE_BYTES + " to "
                    + MAX_NONCE_BYTES);
        }
        for (int pcr : challenge.getPcrsList()) {
            if (pcr < 0 || pcr > 23) {
                throw new IllegalArgumentException("tpm quote challenge names pcr " + pcr + "; pcrs are 0 to 23");
            }
        }
        TpmTools.Quote quote = tpm.quote(nonce, challenge.getPcrsList());
        TpmQuote.Builder built = TpmQuote.newBuilder().setAttest(ByteString.copyFrom(quote.attest()))
                .setSignature(ByteString.copyFrom(quote.signature()));
        quote.pcrValues().forEach(value -> built.addPcrValues(ByteString.copyFrom(value)));
        return built.build();
    }

    @Override
    public String toString() {
        return "TpmAttestorClient[" + tpm + "]";
    }
}
