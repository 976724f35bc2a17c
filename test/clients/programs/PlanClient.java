// A merchant's Java client for the client matrix (test/clients/java.test.ts), run from source:
//
//   java PlanClient.java <base-url> <plan.jsonl>
//
// Java 17's java.net.http.HttpClient with its defaults (HTTP/2 preferred: on http:// it asks for
// an h2c upgrade on the first request). The JDK has no libsodium, so every sealed body in the plan
// comes already sealed by `ktpay-mock seal`. Each plan line is one flat JSON object of strings (id,
// method, path, auth, type, scenario, body, key); each reply is printed as one JSON line: id,
// status, content_type, content_disposition, body_b64. `{step}` in a path is the
// transaction_hash of that step's reply.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class PlanClient {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":\"((?:[^\"\\\\]++|\\\\.)*+)\"");
    private static final Pattern HASH = Pattern.compile("\"transaction_hash\":\"([0-9a-f]{40})\"");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(\\w+)\\}");

    /** The string fields of one flat JSON object (the plan's only shape). Possessive, so a long body does not recurse. */
    static Map<String, String> parseLine(String line) {
        Map<String, String> out = new HashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) out.put(m.group(1), unescape(m.group(2)));
        return out;
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'u': b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16)); i += 4; break;
                default: b.append(e);
            }
        }
        return b.toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        System.out.println("{\"id\":\"_client\",\"client\":\"java.net.http.HttpClient\",\"java\":"
                + quote(Runtime.version().toString()) + ",\"http_version\":" + quote(client.version().toString()) + "}");
        Map<String, String> hashes = new HashMap<>();
        for (String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            Map<String, String> step = parseLine(line);
            Matcher p = PLACEHOLDER.matcher(step.get("path"));
            String path = p.replaceAll(r -> hashes.getOrDefault(r.group(1), ""));
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
            if (!step.get("auth").isEmpty()) req.header("Auth-Identifier", step.get("auth"));
            if (!step.get("type").isEmpty()) req.header("Content-Type", step.get("type"));
            if (!step.get("scenario").isEmpty()) req.header("X-Ktpay-Mock-Scenario", step.get("scenario"));
            String body = step.get("body");
            req.method(step.get("method"), body.isEmpty()
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
            HttpResponse<byte[]> res = client.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            Matcher h = HASH.matcher(new String(res.body(), StandardCharsets.ISO_8859_1));
            if (h.find()) hashes.put(step.get("id"), h.group(1));
            System.out.println("{\"id\":" + quote(step.get("id"))
                    + ",\"status\":" + res.statusCode()
                    + ",\"content_type\":" + quote(res.headers().firstValue("content-type").orElse(""))
                    + ",\"content_disposition\":" + quote(res.headers().firstValue("content-disposition").orElse(""))
                    + ",\"body_b64\":" + quote(Base64.getEncoder().encodeToString(res.body())) + "}");
        }
    }
}
