package dev.sigil.server.policy;

/**
 * Decides a request against the policy in force. Thread-safe; evaluation never throws for a request:
 * a rule whose condition fails to evaluate counts as not matching for allow rules and as matching for
 * deny rules (fail closed), and that is named in the reasons.
 */
@FunctionalInterface
public interface PolicyEngine {
    Decision decide(PolicyRequest request);
}
