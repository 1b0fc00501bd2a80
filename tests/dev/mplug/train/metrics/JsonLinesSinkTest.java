package dev.mplug.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesSinkTest {
  @TempDir Path tmp;

  @Test
  void everyLineIsStrictJsonAndKeysAndValuesRoundTrip() throws Exception {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss \"itc\"", 2.5);
    m.put("C:\\runs\\a", 1e-300);
    m.put("température/λ", -0.125);
    m.put("tab\tnew\nline", 3.0);
    m.put("nan", Double.NaN);
    m.put("inf", Double.POSITIVE_INFINITY);
    m.put("-inf", Double.NEGATIVE_INFINITY);
    Path file = tmp.resolve("m").resolve("metrics.jsonl");
    try (JsonLinesSink sink = new JsonLinesSink(file)) {
      sink.write(7, m);
      sink.write(8, Map.of("lr", 1e-4));
    }
    try (JsonLinesSink sink = new JsonLinesSink(file)) {   // appends
      sink.write(9, Map.of());
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertEquals(3, lines.size(), String.join("\n", lines));
    // the escapes JSON requires, written out by hand
    String first = lines.get(0);
    assertTrue(first.contains("\"loss \\\"itc\\\"\":2.5"), first);
    assertTrue(first.contains("\"C:\\\\runs\\\\a\":1.0E-300"), first);
    assertTrue(first.contains("\"température/λ\":-0.125"), first);
    assertTrue(first.contains("\"tab\\tnew\\nline\":3.0"), first);
    assertTrue(first.contains("\"nan\":\"NaN\",\"inf\":\"Infinity\",\"-inf\":\"-Infinity\""), first);

    ObjectMapper strict = new ObjectMapper();   // rejects bare NaN / Infinity tokens
    JsonNode a = strict.readTree(first);
    assertEquals(7, a.get("step").asLong());
    assertTrue(a.get("time").asDouble() > 1.7e9, first);
    for (var e : m.entrySet()) {
      JsonNode v = a.get(e.getKey());
      if (Double.isFinite(e.getValue())) {
        assertEquals(e.getValue(), v.doubleValue(), e.getKey());
      } else {
        assertEquals(Double.toString(e.getValue()), v.textValue(), e.getKey());
        assertEquals(e.getValue(), Double.parseDouble(v.textValue()), e.getKey());
      }
    }
    assertEquals(2 + m.size(), a.size());
    assertEquals(1e-4, strict.readTree(lines.get(1)).get("lr").doubleValue());
    assertEquals(9, strict.readTree(lines.get(2)).get("step").asLong());
  }
}
