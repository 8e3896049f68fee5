package dev.sigil.cli.server;

import dev.sigil.server.admin.AdminApi;
import dev.sigil.server.admin.AdminServer;
import dev.sigil.server.admin.Routes;
import dev.sigil.server.config.ServerConfig;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in until the server's composition root exists: serves only the admin transport on the Unix
 * socket with {@code GET /v1/health}. The mutual-TLS admin listener and the bundle endpoint need the
 * authority's TLS material, so they are not started; a warning says so when they are configured.
 */
public final class TransportOnlyLauncher implements ServerLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(TransportOnlyLauncher.class);

    @Override
    public RunningServer launch(ServerConfig config) {
        LOG.warn("this build serves only the admin transport and health checks; registration, authority and "
                + "bundle endpoint are not wired yet");
        if (config.admin().tcp().isPresent()) {
            LOG.warn("admin.tcp is configured but not started: it needs the authority's certificate");
        }
        AdminServer admin = AdminServer.create(AdminServer.Options.unixSocket(config.admin().socketPath()),
                AdminApi.of(Routes.builder().build()), Clock.systemUTC());
        admin.start();
        return admin::close;
    }
}
