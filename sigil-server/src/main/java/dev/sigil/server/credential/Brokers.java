package dev.sigil.server.credential;

import dev.sigil.core.SigilException;
import dev.sigil.server.config.BrokerSettings;
import dev.sigil.server.credential.postgresql.PostgresBroker;
import dev.sigil.server.credential.postgresql.PostgresBrokerSettings;
import dev.sigil.server.credential.ssh.SshBroker;
import dev.sigil.server.credential.ssh.SshBrokerSettings;
import dev.sigil.server.keys.KeyManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;

/**
 * Builds the configured brokers: the one place that knows the concrete broker classes
 * ({@code credential.postgresql.PostgresBroker}, {@code credential.ssh.SshBroker}). Everything else
 * sees only {@link Broker}.
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
        Map<String, PostgresBrokerSettings.Resource> resources = new TreeMap<>();
        pg.resources().forEach((name, r) -> resources.put(name, new PostgresBrokerSettings.Resource(r.memberOf(), r.connectionLimit())));
        return PostgresBroker.create(new PostgresBrokerSettings(pg.url(), pg.adminUser(), adminPassword, pg.rolePrefix(), resources), clock);
    }

    private static Broker ssh(BrokerSettings.Ssh ssh, KeyManager keys, Clock clock) {
        return SshBroker.create(new SshBrokerSettings(ssh.resources(), ssh.revokedKeysFile()), keys, clock);
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
