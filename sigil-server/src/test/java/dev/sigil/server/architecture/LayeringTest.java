package dev.sigil.server.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package dependency rules docs/architecture.md describes, checked against the compiled classes of
 * sigil-core and sigil-server (tests excluded): a rule broken here is a design change to discuss, not a
 * test to adjust.
 */
@AnalyzeClasses(packages = "dev.sigil", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    @ArchTest
    static final ArchRule serverComponentsDoNotDependOnEachOtherInACircle =
            slices().matching("dev.sigil.server.(*)..").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule coreKnowsNothingOfServerAgentOrCli = noClasses().that().resideInAPackage("dev.sigil.core..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server..", "dev.sigil.agent..", "dev.sigil.cli..");

    @ArchTest
    static final ArchRule credentialBrokersSeeOnlyTheBrokerContract = noClasses()
            .that().resideInAnyPackage("dev.sigil.server.credential.postgresql..", "dev.sigil.server.credential.ssh..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.agent..",
                    "dev.sigil.server.drift..", "dev.sigil.server.admin..", "dev.sigil.server.registration..");

    @ArchTest
    static final ArchRule nodeAttestorsSeeOnlyTheAttestorContract = noClasses()
            .that().resideInAPackage("dev.sigil.server.agent.attestor..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.sigil.server.token..", "dev.sigil.server.credential..",
                    "dev.sigil.server.drift..", "dev.sigil.server.admin..");
}
