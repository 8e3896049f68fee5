package dev.sigil.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.core.crypto.KeyType;
import dev.sigil.server.datastore.DatastoreContract;
import dev.sigil.server.keys.KeyManager;
import dev.sigil.server.keys.KeyManagers;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Signed checkpoints: what every datastore dialect must guarantee. */
abstract class AuditCheckpointsContract extends DatastoreContract {
    private KeyManager keys;
    private AuditCheckpoints checkpoints;
    private AuditTrail trail;

    @BeforeEach
    void createTrail() {
        keys = KeyManagers.memory();
        checkpoints = AuditCheckpoints.create(datastore, keys, clock, 5, Duration.ofSeconds(10));
        trail = AuditTrail.create(datastore, clock, checkpoints);
    }

    @Test
    void checkpointKeyIsCreatedOnceAsEcP256() {
        assertThat(keys.find(AuditCheckpoints.KEY_ID)).hasValueSatisfying(key -> assertThat(key.type()).isEqualTo(KeyType.EC_P256));
        PublicKey first = checkpoints.publicKey();

        AuditCheckpoints again = AuditCheckpoints.create(datastore, keys, clock, 5, Duration.ofSeconds(10));

        assertThat(again.publicKey()).isEqualTo(first);
        assertThat(again.publicKeyPem()).startsWith("-----BEGIN PUBLIC KEY-----\n").endsWith("-----END PUBLIC KEY-----\n");
    }

    @Test
    void checkpointSignatureVerifiesOfflineWithTheStoredPublicKey() throws Exception {
        append(3);

        AuditCheckpoint checkpoint = checkpoints.checkpointNow().orElseThrow();

        assertThat(checkpoint.seq()).isEqualTo(3);
        PublicKey stored = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(checkpoint.publicKey())));
        assertThat(stored).isEqualTo(checkpoints.publicKey());
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(stored);
        verifier.update(AuditCheckpoints.signedBytes(checkpoint.id(), checkpoint.seq(), checkpoint.headHash(),
                checkpoint.time().toEpochMilli(), checkpoint.keyId()));
        assertThat(verifier.verify(Base64.getDecoder().decode(checkpoint.signature()))).isTrue();
        assertThat(trail.verify()).isEqualTo(new AuditVerification.Intact(3, checkpoint.headHash()));
    }

    @Test
    void checkpointIsTakenEveryNRecordsOrAfterTheIntervalIfAnythingWasAppended() {
        assertThat(checkpoints.checkpointIfDue()).isEmpty();
        append(2);
        assertThat(checkpoints.checkpointIfDue()).hasValueSatisfying(c -> assertThat(c.seq()).isEqualTo(2));

        append(2);
        assertThat(checkpoints.checkpointIfDue()).isEmpty();
        clock.advance(Duration.ofSeconds(10));
        assertThat(checkpoints.checkpointIfDue()).hasValueSatisfying(c -> assertThat(c.seq()).isEqualTo(4));

        clock.advance(Duration.ofSeconds(30));
        assertThat(checkpoints.checkpointIfDue()).isEmpty();
    }

    @Test
    void standaloneAppendsCheckpointEveryNRecordsWithoutTheMaintenanceLoop() {
        append(12);

        assertThat(checkpoints.list()).extracting(AuditCheckpoint::seq).containsExactly(5L, 10L);
    }

    @Test
    void cutTailWithARewrittenHeadIsNamedByTheCheckpoint() {
        append(10);
        AuditCheckpoint checkpoint = checkpoints.list().getLast();
        assertThat(checkpoint.seq()).isEqualTo(10);
        String hashOf7 = trail.query(AuditQuery.all()).get(6).hash();

        tamper("DELETE FROM audit_records WHERE seq > 7",
                "UPDATE audit_head SET last_seq = 7, last_hash = '" + hashOf7 + "' WHERE id = 1");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class, broken -> {
            assertThat(broken.firstBadSeq()).isEqualTo(8);
            assertThat(broken.reason()).isEqualTo("records after 7 were cut: checkpoint 2 signed seq 10 with hash " + checkpoint.headHash());
        });
    }

    @Test
    void cutTailIsUndetectedByTheChainAloneButDetectedWithCheckpoints() {
        append(5);
        String hashOf3 = trail.query(AuditQuery.all()).get(2).hash();

        tamper("DELETE FROM audit_records WHERE seq > 3",
                "UPDATE audit_head SET last_seq = 3, last_hash = '" + hashOf3 + "' WHERE id = 1");

        assertThat(AuditTrail.create(datastore, clock).verify()).isInstanceOf(AuditVerification.Intact.class);
        assertThat(trail.verify()).isInstanceOf(AuditVerification.Broken.class);
    }

    @Test
    void rewrittenSuffixCoveredByACheckpointIsDetected() {
        append(5);
        AuditRecord fourth = trail.query(AuditQuery.all()).get(3);
        AuditRecord fifth = trail.query(AuditQuery.all()).get(4);
        String forged4 = AuditChain.hash(4, fourth.time().toEpochMilli(), "mallory", fourth.action(), fourth.subject(),
                fourth.outcome().wireName(), fourth.details(), fourth.prevHash());
        String forged5 = AuditChain.hash(5, fifth.time().toEpochMilli(), fifth.actor(), fifth.action(), fifth.subject(),
                fifth.outcome().wireName(), fifth.details(), forged4);

        tamper("UPDATE audit_records SET actor = 'mallory', hash = '" + forged4 + "' WHERE seq = 4",
                "UPDATE audit_records SET prev_hash = '" + forged4 + "', hash = '" + forged5 + "' WHERE seq = 5",
                "UPDATE audit_head SET last_hash = '" + forged5 + "' WHERE id = 1");

        assertThat(AuditTrail.create(datastore, clock).verify()).isInstanceOf(AuditVerification.Intact.class);
        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class, broken -> {
            assertThat(broken.firstBadSeq()).isEqualTo(5);
            assertThat(broken.reason()).contains("rewritten at or before record 5").contains("checkpoint 1");
        });
    }

    @Test
    void forgedCheckpointIsDetected() {
        append(5);
        AuditCheckpoint real = checkpoints.list().getFirst();
        String otherSignature = Base64.getEncoder().encodeToString(checkpoints.publicKey().getEncoded()).equals(real.publicKey())
                ? Base64.getEncoder().encodeToString(new byte[] {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
                : real.signature();

        tamper("UPDATE audit_checkpoints SET signature = '" + otherSignature + "' WHERE id = 1");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.reason()).isEqualTo("checkpoint 1 (seq 5) is forged: its signature does not verify "
                        + "with the server's audit checkpoint key"));
    }

    @Test
    void checkpointSignedByAnotherKeyIsDetected() {
        append(3);
        KeyManager attackerKeys = KeyManagers.memory();
        AuditCheckpoints attacker = AuditCheckpoints.create(datastore, attackerKeys, clock, 5, Duration.ofSeconds(10));
        attacker.checkpointNow();

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.reason()).contains("checkpoint 1 (seq 3) is forged"));
    }

    @Test
    void deletedCheckpointInTheMiddleIsDetected() {
        append(15);

        tamper("DELETE FROM audit_checkpoints WHERE id = 2");

        assertThat(trail.verify()).isInstanceOfSatisfying(AuditVerification.Broken.class,
                broken -> assertThat(broken.reason()).isEqualTo("checkpoint 2 is missing: the checkpoint after 1 is 3"));
    }

    private void append(int n) {
        for (int i = 0; i < n; i++) {
            trail.append(AuditEvent.success("alice", "entry.create", "entry:" + i, Map.of()));
        }
    }
}
