package dev.sigil.server.admin;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The admin API's routing table: HTTP method plus a path pattern ({@code /v1/entries/{id}}) to a
 * {@link RouteHandler}. Immutable once built. When several patterns match a path, the one with more
 * literal segments wins ({@code /v1/entries/batch} before {@code /v1/entries/{id}}).
 */
public final class Routes {
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");

    private final List<Route> routes;

    private Routes(List<Route> routes) {
        this.routes = List.copyOf(routes);
    }

    public static Builder builder() {
        return new Builder();
    }

    record Route(String method, PathPattern pattern, RouteHandler handler) {
    }

    /** The outcome of looking up a request. */
    sealed interface Match {
        record Found(Route route, Map<String, String> parameters) implements Match {
        }

        record WrongMethod(Set<String> allowed) implements Match {
        }

        record NoRoute() implements Match {
        }
    }

    /**
     * The pattern of the most specific route matching {@code path} under any method, or {@code other}:
     * a bounded label for metrics (the patterns are fixed when the server is built).
     */
    String template(String path) {
        PathPattern best = null;
        for (Route route : routes) {
            if ((best == null || route.pattern().specificity() > best.specificity()) && route.pattern().match(path).isPresent()) {
                best = route.pattern();
            }
        }
        return best == null ? "other" : best.text();
    }

    Match match(String method, String path) {
        Optional<Route> best = Optional.empty();
        Map<String, String> bestParameters = Map.of();
        Set<String> allowed = new TreeSet<>();
        List<Route> ordered = new ArrayList<>(routes);
        ordered.sort(Comparator.comparingInt((Route route) -> route.pattern().specificity()).reversed());
        for (Route route : ordered) {
            Optional<Map<String, String>> parameters = route.pattern().match(path);
            if (parameters.isEmpty()) {
                continue;
            }
            allowed.add(route.method());
            if (best.isEmpty() && route.method().equals(method)) {
                best = Optional.of(route);
                bestParameters = parameters.get();
            }
        }
        if (best.isPresent()) {
            return new Match.Found(best.get(), bestParameters);
        }
        return allowed.isEmpty() ? new Match.NoRoute() : new Match.WrongMethod(Set.copyOf(allowed));
    }

    /** Collects routes; {@link #build()} rejects two routes for the same method and path shape. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();

        private Builder() {
        }

        public Builder get(String pattern, RouteHandler handler) {
            return add("GET", pattern, handler);
        }

        public Builder post(String pattern, RouteHandler handler) {
            return add("POST", pattern, handler);
        }

        public Builder put(String pattern, RouteHandler handler) {
            return add("PUT", pattern, handler);
        }

        public Builder patch(String pattern, RouteHandler handler) {
            return add("PATCH", pattern, handler);
        }

        public Builder delete(String pattern, RouteHandler handler) {
            return add("DELETE", pattern, handler);
        }

        public Builder add(String method, String pattern, RouteHandler handler) {
            String upper = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
            if (!METHODS.contains(upper)) {
                throw new IllegalArgumentException("http method '" + method + "' is not routable; use one of " + new TreeSet<>(METHODS));
            }
            routes.add(new Route(upper, PathPattern.parse(pattern), Objects.requireNonNull(handler, "handler")));
            return this;
        }

        /** Adds every route of {@code other}. */
        public Builder addAll(Routes other) {
            routes.addAll(other.routes);
            return this;
        }

        public Routes build() {
            Set<String> seen = new HashSet<>();
            for (Route route : routes) {
                if (!seen.add(route.method() + " " + route.pattern().shape())) {
                    throw new IllegalArgumentException("route " + route.method() + " " + route.pattern().text()
                            + " is declared twice (or collides with another pattern of the same shape)");
                }
            }
            return new Routes(routes);
        }
    }
}
