package dev.sigil.server.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package dependency rules docs/architecture.md describes, checked against the compiled classes of
 * sigil-core and sigil-server (tests excluded): a rule broken here is a design change to discuss, not a
 * test to adjust. (Plain JUnit tests calling {@code check}, so they run with the rest of the suite.)
 */
class LayeringTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.sigil");
    }

    @Test
    void serverComponentsDoNotDependOnEachOtherInACircle() {
        slices().matching("dev.sigil.server.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void onlyTheCompositionRootSeesMetrics() {
        // components tell narrow observers (http.RequestObserver, the audit trail they already use) what
        // happened; how it is measured is wired in by the composition root alone
        noClasses().that().resideInAPackage("dev.sigil.server..").and().resideOutsideOfPackages("dev.sigil.server", "dev.sigil.server.metrics..")
                .should().dependOnClassesThat().resideInAPackage("dev.sigil.server.metrics..")
                .check(classes);
    }

    @Test
    void coreKnowsNothingOfServerAgentOrCli() {
        noClasses().that().resideInAPackage("dev.sigil.core..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server..", "dev.sigil.agent..", "dev.sigil.cli..")
                .check(classes);
    }

    @Test
    void credentialBrokersSeeOnlyTheBrokerContract() {
        noClasses().that().resideInAnyPackage("dev.sigil.server.credential.postgresql..", "dev.sigil.server.credential.ssh..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.agent..",
                        "dev.sigil.server.drift..", "dev.sigil.server.admin..", "dev.sigil.server.registration..")
                .check(classes);
    }

    @Test
    void nodeAttestorsSeeOnlyTheAttestorContract() {
        noClasses().that().resideInAPackage("dev.sigil.server.agent.attestor..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.credential..",
                        "dev.sigil.server.drift..", "dev.sigil.server.admin..")
                .check(classes);
    }

    @Test
    void grantsAreDecidedOnlyByTheGrantPipeline() {
        noClasses().that().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.credential..", "dev.sigil.server.agent..",
                        "dev.sigil.server.admin..", "dev.sigil.server.registration..")
                .should().dependOnClassesThat().haveFullyQualifiedName("dev.sigil.server.policy.PolicyRequest")
                .check(classes);
    }

    @Test
    void theGrantPipelineKnowsNoFrontDoor() {
        noClasses().that().resideInAPackage("dev.sigil.server.grant..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.credential..",
                        "dev.sigil.server.drift..", "dev.sigil.server.agent..", "dev.sigil.server.admin..")
                .check(classes);
    }

    @Test
    void componentsShareAUnitOfWorkAsATransactionNeverAsAConnection() {
        // a java.sql.Connection stays inside the package that owns the tables it is used on; across
        // packages the unit of work is dev.sigil.server.datastore.Transaction (the PostgreSQL broker's
        // connections are to the brokered database, not the datastore)
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits()
                .that().areDeclaredInClassesThat().resideInAPackage("dev.sigil.server..")
                .and().areDeclaredInClassesThat().resideOutsideOfPackages("dev.sigil.server.datastore..",
                        "dev.sigil.server.credential.postgresql..")
                .and().arePublic().or().areProtected()
                .should(new com.tngtech.archunit.lang.ArchCondition<com.tngtech.archunit.core.domain.JavaCodeUnit>(
                        "not take a java.sql.Connection parameter") {
                    @Override
                    public void check(com.tngtech.archunit.core.domain.JavaCodeUnit unit, com.tngtech.archunit.lang.ConditionEvents events) {
                        if (unit.getRawParameterTypes().stream().anyMatch(type -> type.isEquivalentTo(java.sql.Connection.class))) {
                            events.add(com.tngtech.archunit.lang.SimpleConditionEvent.violated(unit, unit.getFullName() + " takes a java.sql.Connection"));
                        }
                    }
                })
                .check(classes);
    }

    @Test
    void theConsoleActsOnlyThroughTheAdminApi() {
        // the web console reads and changes nothing itself: every page and action is an admin API call,
        // so it cannot become a second business path with its own checks (or without them)
        noClasses().that().resideInAPackage("dev.sigil.server.console..")
                .should().dependOnClassesThat(com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage("dev.sigil.server..")
                        .and(com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages(
                                "dev.sigil.server.console..", "dev.sigil.server.admin..", "dev.sigil.server.http..")))
                .check(classes);
    }

    @Test
    void pluginsAreNamedOnlyInTheirOwnPackage() {
        // a broker is found through the plugin registry, never by its class
        for (String plugin : java.util.List.of("dev.sigil.server.credential.postgresql..", "dev.sigil.server.credential.ssh..")) {
            noClasses().that().resideOutsideOfPackage(plugin)
                    .should().dependOnClassesThat().resideInAPackage(plugin)
                    .check(classes);
        }
    }
}
