/**
 * The server's metrics (docs/observability.md): one Prometheus registry per server, fed by the
 * listeners' request observers, the agent API's gRPC interceptor, a counting decorator of the audit
 * trail, cached lease gauges, the datastore pool and the JVM. Sits beside the composition root: it
 * may see every component, and only the composition root sees it (LayeringTest), so no component
 * depends on how it is measured.
 *
 * <p>Label values are bounded by construction: route templates and fixed sets of reasons, outcomes,
 * attestor types and states, each mapped to {@code other} when unknown. No label ever holds a SPIFFE
 * ID, a token, a raw path or any other string a client chose.
 */
package dev.sigil.server.metrics;
