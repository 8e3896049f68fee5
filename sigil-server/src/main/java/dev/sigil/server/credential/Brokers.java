package dev.sigil.server.credential;

import dev.sigil.core.SigilException;
import dev.sigil.server.config.BrokerSettings;
import dev.sigil.server.keys.KeyManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the configured brokers: the one place that knows the concrete broker classes
 * ({@code credential.postgresql.PostgresBroker}, {@code credential.ssh.SshBroker}). Everything else
 * sees only {@link Broker}.
 *
 * <p>Integration note: the two concrete brokers are written on other branches. Until they are merged,
 * {@link #postgresql} and {@link #ssh} refuse to start with "… broker not built yet"; at merge, replace
 * the marked {@code throw} lines with the calls in the comments above them (nothing else changes).
 */
public final class Brokers {
    private static final Set<PosixFilePermission> GROUP_OR_WORLD = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private Brokers() {
    }

    /** Every broker the configuration enables, with its lease lifetimes. */
    public static List<ConfiguredBroker> create(BrokerSettings settings, KeyManager keys, Clock clock) {
        List<ConfiguredBroker> brokers = new ArrayList<>();
        settings.postgresql().ifPresent(pg -> brokers.add(new ConfiguredBroker(postgresql(pg, clock), pg.ttls().defaultTtl(),
                pg.ttls().maxTtl())));
        settings.ssh().ifPresent(ssh -> brokers.add(new ConfiguredBroker(ssh(ssh, keys, clock), ssh.ttls().defaultTtl(),
                ssh.ttls().maxTtl())));
        return brokers;
    }

    private static Broker postgresql(BrokerSettings.Postgresql pg, Clock clock) {
        String adminPassword = readSecretFile(pg.adminPasswordFile(), "brokers.postgresql.admin_password_file");
        // AT MERGE, replace the throw with:
        // java.util.Map<String, dev.sigil.server.credential.postgresql.PostgresBrokerSettings.Resource> resources = new java.util.TreeMap<>();
        // pg.resources().forEach((name, r) -> resources.put(name,
        //         new dev.sigil.server.credential.postgresql.PostgresBrokerSettings.Resource(r.memberOf(), r.connectionLimit())));
        // return dev.sigil.server.credential.postgresql.PostgresBroker.create(new dev.sigil.server.credential.postgresql.PostgresBrokerSettings(
        //         pg.url(), pg.adminUser(), adminPassword, pg.rolePrefix(), resources), clock);
        throw new IllegalStateException("postgresql broker not built yet (brokers.postgresql is configured; remove it or use a build "
                + "with the postgresql broker)");
    }

    private static Broker ssh(BrokerSettings.Ssh ssh, KeyManager keys, Clock clock) {
        // AT MERGE, replace the throw with:
        // return dev.sigil.server.credential.ssh.SshBroker.create(new dev.sigil.server.credential.ssh.SshBrokerSettings(
        //         ssh.resources(), ssh.revokedKeysFile()), keys, clock);
        throw new IllegalStateException("ssh broker not built yet (brokers.ssh is configured; remove it or use a build with the ssh broker)");
    }

    /**
     * Reads a one-line secret from a file only its owner can read (a group- or world-accessible file is
     * refused, naming the file). Trailing line breaks are dropped; the value is never logged.
     */
    static String readSecretFile(Path file, String key) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.stream().anyMatch(GROUP_OR_WORLD::contains)) {
                throw new SigilException(key + " " + file + " is accessible by group or others; chmod 600 it");
            }
            String value = Files.readString(file).replaceAll("[\r\n]+$", "");
            if (value.isEmpty()) {
                throw new SigilException(key + " " + file + " is empty");
            }
            return value;
        } catch (IOException e) {
            throw new SigilException("cannot read " + key + " " + file + ": " + e.getMessage(), e);
        }
    }
}
