package dev.sigil.server.admin;

/**
 * Serves one admin API route. Runs on a pool thread and may block (datastore, signing). Throw
 * {@link ApiException} for errors the caller should see; any other exception is offered to the
 * {@link ExceptionMapper} and otherwise answered with a generic 500 (and logged).
 */
@FunctionalInterface
public interface RouteHandler {
    Reply handle(AdminRequest request);
}
