package dev.sigil.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sigil.server.SigilServer;
import dev.sigil.server.agent.Credentials;
import dev.sigil.server.config.ConfigEnvironment;
import dev.sigil.server.config.ConfigOverrides;
import dev.sigil.server.config.ServerConfigLoader;
import dev.sigil.server.policy.Decision;
import dev.sigil.server.testing.RawHttp;
import dev.sigil.testkit.BrokerDatabase;
import dev.sigil.testkit.Eventually;
import java.io.File;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser (Debian's chromium through chromedriver, headless), reached as an
 * operator reaches it: a one-time code from {@code POST /v1/console/login} and the loopback forwarder
 * {@code sigil console} runs, in front of a real server whose PostgreSQL broker holds a real login role.
 * Drives every page (a PNG of each lands in {@code target/console-screenshots/}), revokes the lease
 * (the role disappears from PostgreSQL), ends a task, dry-runs the policy both ways, and finds the
 * revocation in the audit page under the console actor with the chain verified. No page ever shows the
 * database password or the access token the workload holds.
 */
@Timeout(90) // about 15 s on a quiet machine, 40 s at a load of 11 on 2 cores (most of it starting PostgreSQL and chromium)
class ConsoleBrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String BILLING = "spiffe://example.org/billing";
    private static final String REPORTS = "spiffe://example.org/reports";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    @TempDir
    Path dir;

    @Test
    void anOperatorRevokesALeaseEndsATaskAndDryRunsThePolicyInABrowser() throws Exception {
        requireBrowser();
        BrokerDatabase pg = BrokerDatabase.create();
        Path file = dir.resolve("sigil.yaml");
        Files.writeString(file, """
                data_dir: %s
                trust_domain: example.org
                log_level: warn
                bundle_endpoint:
                  enabled: false
                agent_api:
                  port: 0
                token_endpoint:
                  port: 0
                """.formatted(dir.resolve("server")) + pg.brokersYaml(dir));
        var config = ServerConfigLoader.load(Optional.of(file), ConfigEnvironment.of(Map.of(), dir), ConfigOverrides.none());
        try (SigilServer server = SigilServer.start(config, Clock.systemUTC(),
                SigilServer.Options.defaults().withPolicy(request -> new Decision.Allow(List.of("test allows"), Decision.Obligations.none())));
             LoopbackForwarder forwarder = LoopbackForwarder.start(0, server.admin().socketPath())) {
            Path socket = server.admin().socketPath();
            api(socket, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "spiffe://example.org/node/a", "owner": "alice", "selectors": [{"type": "unix", "value": "uid:1000"}]}"""
                    .formatted(BILLING));
            api(socket, "POST", "/v1/entries", """
                    {"spiffe_id": "%s", "parent_id": "spiffe://example.org/node/a", "owner": "bob", "selectors": [{"type": "unix", "value": "uid:1001"}]}"""
                    .formatted(REPORTS));
            api(socket, "PUT", "/v1/policy", JSON.writeValueAsString(Map.of("yaml", """
                    rules:
                      - name: billing-reads-reports
                        effect: allow
                        subject: {spiffe_id: "%s"}
                        actions: [credential:issue]
                        resources: ["postgresql:reports"]
                    """.formatted(BILLING))));
            String task = api(socket, "POST", "/v1/tasks", """
                    {"owner": "alice", "holder": "%s", "purpose": "quarter close", "allowed": ["read:postgresql:reports"], "ttl": 3600}"""
                    .formatted(BILLING)).path("id").asText();
            Credentials held = Credentials.obtain(server, BILLING);
            assertThat(held.roleExists(pg.database())).isTrue();
            String lease = null;
            for (JsonNode candidate : api(socket, "GET", "/v1/leases?state=active&broker=postgresql&holder=" + enc(BILLING), null).path("leases")) {
                lease = candidate.path("id").asText();
            }
            assertThat(lease).as("the postgresql lease").isNotNull();
            String loginPath = api(socket, "POST", "/v1/console/login", "{}").path("login_path").asText();
            WebDriver browser = browser();
            List<String> pages = new ArrayList<>();
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
                String base = "http://127.0.0.1:" + forwarder.port();
                browser.get(base + loginPath);
                assertThat(browser.getTitle()).startsWith("Overview");
                assertThat(browser.findElement(By.cssSelector("[data-key=identities]")).getText()).isEqualTo("2");
                assertThat(browser.findElement(By.cssSelector("[data-key=posture-score]")).getText()).matches("\\d+");
                assertThat(browser.findElement(By.id("actor")).getText()).startsWith("local:");
                pages.add(shoot(browser, "01-overview"));

                browser.findElement(By.linkText("Identities")).click();
                WebElement search = browser.findElement(By.name("q"));
                search.sendKeys("billing");
                search.submit();
                wait.until(ExpectedConditions.urlContains("q=billing"));
                String identities = browser.findElement(By.id("identities")).getText();
                assertThat(identities).contains(BILLING).doesNotContain(REPORTS);
                pages.add(shoot(browser, "02-inventory-search"));

                browser.findElement(By.linkText("Agents")).click();
                pages.add(shoot(browser, "03-agents"));

                browser.findElement(By.linkText("Leases")).click();
                WebElement row = browser.findElement(By.xpath("//table[@id='leases']//tr[td[1][text()='" + lease + "']]"));
                row.findElement(By.xpath(".//button[text()='Revoke']")).click();
                wait.until(ExpectedConditions.alertIsPresent()).accept();
                wait.until(ExpectedConditions.presenceOfElementLocated(By.id("notice")));
                Eventually.within(Duration.ofSeconds(15), () -> assertThat(held.roleExists(pg.database())).as("the lease's role").isFalse());
                pages.add(shoot(browser, "04-leases-revoked"));

                browser.findElement(By.linkText("Tasks")).click();
                browser.findElement(By.xpath("//table[@id='tasks']//tr[td[1][text()='" + task + "']]//button[text()='End']")).click();
                wait.until(ExpectedConditions.alertIsPresent()).accept();
                wait.until(ExpectedConditions.presenceOfElementLocated(By.id("notice")));
                assertThat(api(socket, "GET", "/v1/tasks/" + task, null).path("state").asText()).isEqualTo("ended");
                pages.add(shoot(browser, "05-tasks-ended"));

                browser.findElement(By.linkText("Drift")).click();
                pages.add(shoot(browser, "06-drift"));

                browser.findElement(By.linkText("Policy")).click();
                assertThat(decide(browser, BILLING)).startsWith("allow");
                pages.add(shoot(browser, "07-policy-allow"));
                assertThat(decide(browser, REPORTS)).startsWith("deny");
                pages.add(shoot(browser, "08-policy-deny"));

                browser.findElement(By.linkText("Audit")).click();
                assertThat(browser.findElement(By.id("chain")).getText()).contains("Verified");
                browser.findElement(By.name("action")).sendKeys("credential.revoke_requested");
                browser.findElement(By.cssSelector("#search button")).click();
                wait.until(ExpectedConditions.urlContains("action=credential.revoke_requested"));
                assertThat(browser.findElement(By.id("records")).getText()).contains("console:local:");
                pages.add(shoot(browser, "09-audit"));

                browser.findElement(By.linkText("Posture")).click();
                pages.add(shoot(browser, "10-posture"));

                assertThat(pages).allSatisfy(html -> assertThat(html).doesNotContain(held.pgPassword()).doesNotContain(held.accessToken()));

                browser.findElement(By.cssSelector("form.logout button")).click();
                wait.until(ExpectedConditions.titleContains("Signed out"));
                browser.get(base + "/console/");
                assertThat(browser.getTitle()).startsWith("Sign in");
            } finally {
                browser.quit();
            }
        }
    }

    private static String decide(WebDriver browser, String subject) {
        for (String[] field : new String[][] {{"subject", subject}, {"action", "credential:issue"}, {"resource", "postgresql:reports"}}) {
            WebElement input = browser.findElement(By.cssSelector("#decide input[name=" + field[0] + "]"));
            input.clear();
            input.sendKeys(field[1]);
        }
        // the page before the click may hold the previous decision: wait for the new page, then read it
        List<WebElement> previous = browser.findElements(By.cssSelector("#decision p"));
        browser.findElement(By.cssSelector("#decide button")).click();
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(10));
        if (!previous.isEmpty()) {
            wait.until(ExpectedConditions.stalenessOf(previous.getFirst()));
        }
        // while the new page settles, Chromium may answer for a node of the old document (a stale element, or
        // "Node with given id does not belong to the document"): read again until it answers for the new one
        wait.ignoring(org.openqa.selenium.WebDriverException.class);
        return wait.until(d -> d.findElement(By.cssSelector("#decision p")).getText());
    }

    /** Saves a screenshot and returns the page's HTML. */
    private static String shoot(WebDriver browser, String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        Files.write(SCREENSHOTS.resolve(name + ".png"), ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        return browser.getPageSource();
    }

    private WebDriver browser() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    /** Without chromium and chromedriver the test is skipped, except in CI (CI=true), where it fails. */
    private static void requireBrowser() {
        boolean present = new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute();
        if (!present && "true".equals(System.getenv("CI"))) {
            throw new AssertionError(CHROMIUM + " and " + CHROMEDRIVER + " are required in CI (apt-get install chromium chromium-driver)");
        }
        Assumptions.assumeTrue(present, "the console browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                + " (apt-get install chromium chromium-driver)");
    }

    private static JsonNode api(Path socket, String method, String path, String body) throws Exception {
        RawHttp.Reply reply = body == null ? RawHttp.unix(socket, method, path)
                : RawHttp.unix(socket, method, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
        assertThat(reply.status()).as(method + " " + path + ": " + reply.body()).isBetween(200, 299);
        return JSON.readTree(reply.body());
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
