package dev.sigil.server.credential.postgresql;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;
import org.postgresql.Driver;

/**
 * How the {@code postgresql} broker reaches its database and what each resource grants. Always valid
 * once built: a {@code jdbc:postgresql:} URL that names a database and carries no credentials, role
 * names that are plain identifiers, a role prefix short enough to leave room for the holder hint and
 * lease id in PostgreSQL's 63-byte role names, and at least one resource.
 *
 * <p>{@link #toString()} never prints the admin password.
 *
 * @param url           JDBC URL of the target database (also handed to holders, so it must carry no
 *                      {@code user} or {@code password} parameter)
 * @param adminUser     the broker's admin role (needs {@code CREATEROLE}, must not be a superuser)
 * @param adminPassword its password, read from a file by the configuration loader
 * @param rolePrefix    the prefix of every role the broker creates, {@code [a-z_][a-z0-9_]{0,15}};
 *                      the broker never touches a role without it
 * @param resources     resource name to what a lease on it grants
 * @param poolSize      admin connections the broker keeps at most, 1 to {@value #MAX_POOL_SIZE}: how many
 *                      grants and revocations run in the database at once (others wait for a connection)
 */
public record PostgresBrokerSettings(String url, String adminUser, String adminPassword, String rolePrefix,
                                     Map<String, Resource> resources, int poolSize) {
    static final int MAX_IDENTIFIER_BYTES = 63;
    /** Admin connections by default: enough for concurrent grants to overlap their round trips on a small server. */
    public static final int DEFAULT_POOL_SIZE = 8;
    static final int MAX_POOL_SIZE = 64;
    private static final String URL_SCHEME = "jdbc:postgresql:";
    private static final Pattern PREFIX = Pattern.compile("[a-z_][a-z0-9_]{0,15}");
    private static final Pattern ROLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");
    private static final Pattern RESOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /**
     * What a lease on one resource grants.
     *
     * @param memberOf        group roles the lease's login role becomes a member of (with
     *                        {@code INHERIT}, so their privileges apply directly)
     * @param connectionLimit how many sessions the login role may hold at once, at least 1
     */
    public record Resource(List<String> memberOf, int connectionLimit) {
        public Resource {
            memberOf = List.copyOf(Objects.requireNonNull(memberOf, "memberOf"));
            for (String role : memberOf) {
                requireRoleName("member_of role", role);
            }
            if (memberOf.stream().distinct().count() != memberOf.size()) {
                throw new IllegalArgumentException("member_of " + memberOf + " names a role twice");
            }
            if (connectionLimit < 1) {
                throw new IllegalArgumentException("connection_limit " + connectionLimit + " is invalid; expected at least 1");
            }
        }
    }

    /** With {@value #DEFAULT_POOL_SIZE} admin connections. */
    public PostgresBrokerSettings(String url, String adminUser, String adminPassword, String rolePrefix, Map<String, Resource> resources) {
        this(url, adminUser, adminPassword, rolePrefix, resources, DEFAULT_POOL_SIZE);
    }

    public PostgresBrokerSettings {
        if (poolSize < 1 || poolSize > MAX_POOL_SIZE) {
            throw new IllegalArgumentException("postgresql broker pool_size " + poolSize + " is invalid; expected 1 to " + MAX_POOL_SIZE);
        }
        Objects.requireNonNull(url, "url");
        if (!url.startsWith(URL_SCHEME)) {
            throw new IllegalArgumentException("postgresql broker url '" + url + "' is invalid; expected a jdbc url starting with "
                    + URL_SCHEME);
        }
        Properties parsed = Driver.parseURL(url, null);
        if (parsed == null || parsed.getProperty("PGDBNAME", "").isEmpty()) {
            throw new IllegalArgumentException("postgresql broker url '" + url + "' is invalid; expected "
                    + URL_SCHEME + "//host:port/database");
        }
        for (String credential : List.of("user", "password", "sslpassword")) {
            if (parsed.containsKey(credential)) {
                throw new IllegalArgumentException("postgresql broker url must not carry '" + credential
                        + "'; set admin_user and admin_password_file instead");
            }
        }
        requireRoleName("admin_user", adminUser);
        if (adminPassword == null || adminPassword.isEmpty()) {
            throw new IllegalArgumentException("the postgresql broker's admin password is empty");
        }
        if (rolePrefix == null || !PREFIX.matcher(rolePrefix).matches()) {
            throw new IllegalArgumentException("role_prefix '" + rolePrefix + "' is invalid; expected [a-z_][a-z0-9_]{0,15}");
        }
        Objects.requireNonNull(resources, "resources");
        if (resources.isEmpty()) {
            throw new IllegalArgumentException("the postgresql broker has no resources; configure at least one");
        }
        for (Map.Entry<String, Resource> entry : resources.entrySet()) {
            if (entry.getKey() == null || !RESOURCE.matcher(entry.getKey()).matches()) {
                throw new IllegalArgumentException("postgresql resource name '" + entry.getKey()
                        + "' is invalid; expected [A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
            }
            Objects.requireNonNull(entry.getValue(), "resource " + entry.getKey());
            for (String role : entry.getValue().memberOf()) {
                if (RoleName.parse(rolePrefix, role).isPresent()) {
                    throw new IllegalArgumentException("member_of role '" + role + "' of resource " + entry.getKey()
                            + " looks like a lease role of this broker (prefix '" + rolePrefix + "'); rename it");
                }
            }
        }
        resources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(resources));
    }

    /** The database the URL names: where roles log in and where REASSIGN/DROP OWNED act. */
    public String database() {
        return Driver.parseURL(url, null).getProperty("PGDBNAME");
    }

    private static void requireRoleName(String what, String name) {
        if (name == null || !ROLE.matcher(name).matches()
                || name.getBytes(StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
            throw new IllegalArgumentException(what + " '" + name + "' is invalid; expected an identifier of letters, "
                    + "digits, '_' and '$' (not starting with a digit), at most " + MAX_IDENTIFIER_BYTES + " bytes");
        }
    }

    @Override
    public String toString() {
        return "PostgresBrokerSettings[url=" + url + ", adminUser=" + adminUser + ", adminPassword=<redacted>, rolePrefix="
                + rolePrefix + ", resources=" + resources + ", poolSize=" + poolSize + "]";
    }
}
