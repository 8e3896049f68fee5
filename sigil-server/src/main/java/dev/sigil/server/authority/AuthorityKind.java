package dev.sigil.server.authority;

/**
 * What an authority signs: X.509-SVIDs (a CA certificate and its key), JWT-SVIDs (a signing key) or WIT-SVIDs
 * (WIMSE workload identity tokens; a signing key of its own, so that neither kind of token can pass for the other).
 */
public enum AuthorityKind {
    X509("x509"),
    JWT("jwt"),
    WIT("wit");

    private final String storedName;

    AuthorityKind(String storedName) {
        this.storedName = storedName;
    }

    /** The name stored in the journal and shown to operators. */
    public String storedName() {
        return storedName;
    }

    static AuthorityKind fromStored(String name) {
        for (AuthorityKind kind : values()) {
            if (kind.storedName.equals(name)) {
                return kind;
            }
        }
        throw new AuthorityException("journal holds unknown authority kind '" + name + "'; valid: x509, jwt, wit");
    }
}
