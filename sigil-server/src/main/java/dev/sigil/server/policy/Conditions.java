package dev.sigil.server.policy;

import com.google.protobuf.Timestamp;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.sigil.core.selector.Selector;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rule conditions in CEL, compiled once when a policy is loaded against this declared context:
 * <pre>
 *   request.subject      string                 the workload's SPIFFE ID
 *   request.selectors    list(string)           attested selectors as "type:value"
 *   request.trust_level  int                    0..3
 *   request.attested_at  dyn                    timestamp of attestation, or null when never attested
 *   request.action       string
 *   request.resource     string                 resource or audience
 *   request.scopes       list(string)
 *   request.task         string                 "" when the request is under no task
 *   request.delegation   list(string)           SPIFFE IDs of actors, outermost first
 *   request.time         timestamp
 *   request.claims       map(string, dyn)       further verified attributes
 * </pre>
 * A condition must be boolean-typed; anything else is refused at load.
 */
final class Conditions {
    private static final Cel CEL = CelFactory.standardCelBuilder()
            .addVar("request.subject", SimpleType.STRING)
            .addVar("request.selectors", ListType.create(SimpleType.STRING))
            .addVar("request.trust_level", SimpleType.INT)
            .addVar("request.attested_at", SimpleType.DYN)
            .addVar("request.action", SimpleType.STRING)
            .addVar("request.resource", SimpleType.STRING)
            .addVar("request.scopes", ListType.create(SimpleType.STRING))
            .addVar("request.task", SimpleType.STRING)
            .addVar("request.delegation", ListType.create(SimpleType.STRING))
            .addVar("request.time", SimpleType.TIMESTAMP)
            .addVar("request.claims", MapType.create(SimpleType.STRING, SimpleType.DYN))
            .build();

    private Conditions() {
    }

    /** A compiled, boolean-typed condition. */
    record Condition(String source, CelRuntime.Program program) {
        /**
         * @throws CelEvaluationException when the expression fails at run time (no such key, bad cast, ...)
         * @throws IllegalStateException when a dyn-typed expression yields no bool
         */
        boolean evaluate(Map<String, Object> activation) throws CelEvaluationException {
            Object result = program.eval(activation);
            if (result instanceof Boolean b) {
                return b;
            }
            throw new IllegalStateException("condition evaluated to " + result + ", not a bool");
        }
    }

    /** @throws IllegalArgumentException naming the CEL error or the wrong result type */
    static Condition compile(String source) {
        CelAbstractSyntaxTree ast;
        try {
            ast = CEL.compile(source).getAst();
        } catch (CelValidationException e) {
            throw new IllegalArgumentException("condition does not compile: " + dev.sigil.core.Printable.clip(e.getMessage().replace('\n', ' '), 400));
        }
        if (!ast.getResultType().equals(SimpleType.BOOL) && !ast.getResultType().equals(SimpleType.DYN)) {
            throw new IllegalArgumentException("condition is of type " + ast.getResultType().name()
                    + "; it must be a bool expression");
        }
        try {
            return new Condition(source, CEL.createProgram(ast));
        } catch (CelEvaluationException e) {
            throw new IllegalArgumentException("condition cannot be planned: " + e.getMessage());
        }
    }

    /** The activation for one request; built once per decision and shared by all conditions. */
    static Map<String, Object> activation(PolicyRequest request) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("request.subject", request.subject().toString());
        vars.put("request.selectors", request.selectors().stream().map(Selector::toString).sorted().toList());
        vars.put("request.trust_level", (long) request.trustLevel());
        vars.put("request.attested_at", request.attestedAt().<Object>map(Conditions::timestamp)
                .orElse(com.google.protobuf.NullValue.NULL_VALUE));
        vars.put("request.action", request.action());
        vars.put("request.resource", request.resource());
        vars.put("request.scopes", request.scopes());
        vars.put("request.task", request.task().orElse(""));
        vars.put("request.delegation", request.delegationChain().stream().map(Object::toString).toList());
        vars.put("request.time", timestamp(request.time()));
        vars.put("request.claims", normalize(request.claims()));
        return vars;
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    /** CEL knows int as long and lists/maps of its own values; other Java numbers are widened. */
    private static Object normalize(Object value) {
        return switch (value) {
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Instant instant -> timestamp(instant);
            case Map<?, ?> map -> {
                Map<Object, Object> copy = new HashMap<>();
                map.forEach((k, v) -> copy.put(k, normalize(v)));
                yield copy;
            }
            case List<?> list -> {
                List<Object> copy = new ArrayList<>();
                list.forEach(v -> copy.add(normalize(v)));
                yield copy;
            }
            default -> value;
        };
    }
}
