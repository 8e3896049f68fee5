/**
 * SPIFFE federation: the relationships with foreign trust domains whose bundles this trust domain
 * consumes ({@link FederationStore}, the datastore being the truth for every server), the refresher that
 * fetches each foreign bundle endpoint on its {@code spiffe_refresh_hint} ({@link FederationRefresher},
 * keeping the last good bundle when a refresh fails), and the admin API ({@link FederationRoutes}).
 * What the other components see is only {@link FederatedBundles}: the current bundle of a federated
 * trust domain, delivered to agents for the entries that federate with it and used by the token service
 * to verify foreign JWT-SVIDs.
 */
package dev.sigil.server.federation;
