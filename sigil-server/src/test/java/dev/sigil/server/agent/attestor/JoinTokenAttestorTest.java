package dev.sigil.server.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sigil.agent.attestor.JoinTokenAttestorClient;
import dev.sigil.agent.attestor.NodeAttestorClient;
import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.TrustDomain;
import dev.sigil.server.audit.AuditTrail;
import dev.sigil.server.datastore.Datastore;
import dev.sigil.server.datastore.DatastoreConfig;
import dev.sigil.server.registration.IssuedJoinToken;
import dev.sigil.server.registration.JoinTokens;
import dev.sigil.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTokenAttestorTest extends NodeAttestorContract {
    private static final TrustDomain TD = new TrustDomain("example.org");
    @TempDir
    Path tmp;
    private final MutableClock clock = MutableClock.atEpochOfTests();
    private Datastore datastore;
    private JoinTokens tokens;
    private JoinTokenAttestor attestor;

    @BeforeEach
    void open() {
        datastore = Datastore.open(DatastoreConfig.sqlite(tmp.resolve("sigil.db")));
        tokens = JoinTokens.create(datastore, AuditTrail.create(datastore, clock), clock);
        attestor = new JoinTokenAttestor(tokens, TD);
    }

    @AfterEach
    void close() {
        datastore.close();
    }

    @Override
    protected NodeAttestor server() {
        return attestor;
    }

    @Override
    protected NodeAttestorClient goodClient() {
        return new JoinTokenAttestorClient(tokens.generate(Optional.empty(), Duration.ofMinutes(10), "alice").revealSecretValue());
    }

    @Override
    protected NodeAttestorClient impostor() {
        return new JoinTokenAttestorClient("sigil_jt_notarealtokenbutlooksliketheshapeofone");
    }

    @Override
    protected List<String> secretsOf(NodeAttestorClient client) {
        return List.of(new String(client.evidence(), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void agentIdAndSelectorNameTheTokenIdNotTheToken() {
        IssuedJoinToken token = tokens.generate(Optional.empty(), Duration.ofMinutes(10), "alice");

        AttestationStep result = drive(attestor, null, new JoinTokenAttestorClient(token.revealSecretValue()).evidence()).result();

        assertThat(result).isEqualTo(new AttestationStep.Attested(TD.id("/sigil/agent/join_token/" + token.id()),
                List.of(Selector.of("join_token", "id:" + token.id())), 1));
    }

    @Test
    void expiredJoinTokenIsRefused() {
        IssuedJoinToken token = tokens.generate(Optional.empty(), Duration.ofMinutes(10), "alice");
        clock.advance(Duration.ofMinutes(11));

        AttestationStep result = attestor.begin(new JoinTokenAttestorClient(token.revealSecretValue()).evidence(), "test-agent");

        assertThat(result).isInstanceOf(AttestationStep.Refused.class);
        assertThat(((AttestationStep.Refused) result).reason()).contains("expired").doesNotContain(token.revealSecretValue());
    }
}
