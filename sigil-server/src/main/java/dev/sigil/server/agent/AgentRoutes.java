package dev.sigil.server.agent;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.InvalidSpiffeIdException;
import dev.sigil.core.spiffeid.SpiffeId;
import dev.sigil.server.admin.AdminRequest;
import dev.sigil.server.admin.ApiException;
import dev.sigil.server.admin.Reply;
import dev.sigil.server.admin.Routes;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The admin API of the agents registry: list and show agents, ban and evict them. Bans and evictions
 * are attributed to the caller and audited by {@link AgentStore} with the change; a banned or evicted
 * agent is refused at its next agent API call.
 */
public final class AgentRoutes {
    private final AgentStore agents;
    private final dev.sigil.server.agent.attestor.ContinuousAttestors continuous;

    public AgentRoutes(AgentStore agents) {
        this(agents, new dev.sigil.server.agent.attestor.ContinuousAttestors());
    }

    /** With {@code continuous}: the attestors whose nodes keep proving their state, for {@code last_quote_at}. */
    public AgentRoutes(AgentStore agents, dev.sigil.server.agent.attestor.ContinuousAttestors continuous) {
        this.agents = agents;
        this.continuous = continuous;
    }

    public Routes routes() {
        return Routes.builder()
                .get("/v1/agents", request -> Reply.ok(new AgentList(agents.list().stream().map(this::json).toList())))
                .get("/v1/agents/show", request -> Reply.ok(json(find(spiffeId(request.query("spiffe_id").orElse(null))))))
                .post("/v1/agents/ban", request -> {
                    SpiffeId id = spiffeId(body(request));
                    return Reply.ok(json(agents.ban(id, request.actor().describe()).orElseThrow(() -> notFound(id.toString()))));
                })
                .post("/v1/agents/evict", request -> {
                    SpiffeId id = spiffeId(body(request));
                    return Reply.ok(json(agents.evict(id, request.actor().describe()).orElseThrow(() -> notFound(id.toString()))));
                })
                .build();
    }

    /**
     * An agent as the API shows it: no key material, only the serial of its current SVID.
     *
     * @param evidence    a one-line summary of the evidence its node attestor accepted
     * @param trustMeaning what {@code trustLevel} stands for, e.g. {@code 2 (verified cryptographic evidence)}
     * @param lastQuoteAt when the node last proved its state with a hardware quote; absent for attestors without quotes
     */
    public record AgentJson(SpiffeId spiffeId, String attestorType, String evidence, List<Selector> selectors, int trustLevel,
                            String trustMeaning, Optional<Instant> lastQuoteAt, String svidSerial, Instant svidExpiresAt,
                            Instant firstAttestedAt, Instant lastAttestedAt, boolean banned, long revision, Instant updatedAt) {
        static AgentJson of(Agent agent) {
            return new AgentJson(agent.spiffeId(), agent.attestorType(), NodeEvidence.summary(agent.attestorType(), agent.selectors()),
                    agent.selectors(), agent.trustLevel(), NodeEvidence.level(agent.trustLevel()), Optional.empty(), agent.svidSerial(),
                    agent.svidExpiresAt(), agent.firstAttestedAt(), agent.lastAttestedAt(), agent.banned(), agent.revision(),
                    agent.updatedAt());
        }
    }

    private AgentJson json(Agent agent) {
        AgentJson plain = AgentJson.of(agent);
        Optional<Instant> lastQuote = continuous.lastEvidenceAt(agent.spiffeId(), agent.attestorType());
        return lastQuote.isEmpty() ? plain : new AgentJson(plain.spiffeId(), plain.attestorType(), plain.evidence(), plain.selectors(),
                plain.trustLevel(), plain.trustMeaning(), lastQuote, plain.svidSerial(), plain.svidExpiresAt(), plain.firstAttestedAt(),
                plain.lastAttestedAt(), plain.banned(), plain.revision(), plain.updatedAt());
    }

    public record AgentList(List<AgentJson> agents) {
    }

    record AgentRef(String spiffeId) {
    }

    private Agent find(SpiffeId id) {
        return agents.find(id).orElseThrow(() -> notFound(id.toString()));
    }

    private static String body(AdminRequest request) {
        if (!request.hasBody()) {
            throw ApiException.invalidArgument("request body is missing; send {\"spiffe_id\": \"spiffe://<trust domain>/sigil/agent/...\"}");
        }
        return request.body(AgentRef.class).spiffeId();
    }

    private static SpiffeId spiffeId(String text) {
        if (text == null || text.isBlank()) {
            throw ApiException.invalidArgument("spiffe_id is missing; name the agent, e.g. spiffe://example.org/sigil/agent/join_token/<id>");
        }
        try {
            return SpiffeId.parse(text);
        } catch (InvalidSpiffeIdException e) {
            throw ApiException.invalidArgument("spiffe_id '" + text + "' is not a spiffe id: " + e.getMessage());
        }
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("agent '" + id + "' is not registered");
    }
}
