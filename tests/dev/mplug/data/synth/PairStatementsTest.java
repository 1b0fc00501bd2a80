package dev.mplug.data.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shapes world's NLVR2 statements and SNLI-VE hypotheses say what their labels claim: each is checked here
 * against the scenes themselves, by a reading of the sentence independent of the generator.
 */
class PairStatementsTest {
  private static final ShapesWorld.Config CONFIG = new ShapesWorld.Config(120, 0, 9, 48, 0.25, 16);
  private static final Pattern CONTAINS = Pattern.compile("the (left|right) image contains an? (\\w+) shape");
  private static final Pattern BOTH = Pattern.compile("both images contain an? (\\w+) shape");
  private static final Pattern MORE = Pattern.compile("the (left|right) image has more shapes than the (left|right) "
      + "image");
  private static final Pattern THERE_IS = Pattern.compile("there is an? (\\w+) shape");
  @TempDir static Path root;

  @BeforeAll
  static void world() {
    ShapesWorld.generate(root, CONFIG);
  }

  private static JsonNode read(String file) throws IOException {
    return new ObjectMapper().readTree(root.resolve(file).toFile());
  }

  private static Scene scene(String image) {
    return ShapesWorld.scene(CONFIG, Integer.parseInt(image.substring(image.lastIndexOf('/') + 1, image.indexOf('.'))));
  }

  private static boolean has(Scene s, String colour, String shape) {
    return s.figures().stream().anyMatch(f -> f.colour().word().equals(colour) && (shape == null
        || f.shape().word().equals(shape)));
  }

  @Test
  void nlvr2StatementsAreTrueExactlyWhenLabelledTrue() throws IOException {
    Map<String, int[]> kinds = new TreeMap<>();   // kind -> {statements, true ones}
    for (String file : List.of(SynthFiles.NLVR2_TRAIN, SynthFiles.NLVR2_TEST)) {
      for (JsonNode e : read(file)) {
        Scene left = scene(e.get("images").get(0).asText());
        Scene right = scene(e.get("images").get(1).asText());
        assertTrue(!e.get("images").get(0).equals(e.get("images").get(1)), "two different images: " + e);
        String s = e.get("sentence").asText();
        boolean holds;
        String kind;
        Matcher m;
        if ((m = CONTAINS.matcher(s)).matches()) {
          kind = "contains";
          holds = has(m.group(1).equals("left") ? left : right, m.group(2), null);
        } else if ((m = BOTH.matcher(s)).matches()) {
          kind = "both";
          holds = has(left, m.group(1), null) && has(right, m.group(1), null);
          // a pair that shares a colour; a false statement names a colour one of the two images shows
          assertTrue(left.figures().stream().anyMatch(f -> has(right, f.colour().word(), null)), "shared: " + e);
          assertTrue(has(left, m.group(1), null) || has(right, m.group(1), null), "shown once: " + e);
        } else if ((m = MORE.matcher(s)).matches()) {
          kind = "more";
          int l = left.figures().size();
          int r = right.figures().size();
          holds = m.group(1).equals("left") ? l > r : r > l;
        } else {
          kind = "more";
          assertEquals("both images have the same number of shapes", s);
          holds = left.figures().size() == right.figures().size();
        }
        assertEquals(holds ? "True" : "False", e.get("label").asText(), s + " / " + e);
        int[] count = kinds.computeIfAbsent(kind, k -> new int[2]);
        count[0]++;
        if (holds) count[1]++;
      }
    }
    assertEquals(2 * 120, kinds.values().stream().mapToInt(c -> c[0]).sum(), "two pairs per image");
    assertEquals(List.of("both", "contains", "more"), List.copyOf(kinds.keySet()));
    // every kind is true about half the time: its words alone do not give the label away
    kinds.forEach((kind, c) -> assertTrue(c[1] > 0.35 * c[0] && c[1] < 0.65 * c[0],
        kind + ": " + c[1] + " true of " + c[0]));
  }

  @Test
  void snliVeHypothesesHaveTheirLabels() throws IOException {
    int n = 0;
    for (String file : List.of(SynthFiles.SNLI_VE_TRAIN, SynthFiles.SNLI_VE_TEST)) {
      for (JsonNode e : read(file)) {
        Scene scene = scene(e.get("image").asText());
        String s = e.get("sentence").asText();
        String label = e.get("label").asText();
        Matcher m;
        if ((m = THERE_IS.matcher(s)).matches()) {
          assertEquals(has(scene, m.group(1), null) ? "entailment" : "contradiction", label, s);
        } else {
          assertTrue(s.matches("the \\w+ \\w+ (is made of \\w+|was drawn by an? \\w+)"), s);
          assertEquals("neutral", label, s);
          String[] w = s.split(" ");
          assertTrue(has(scene, w[1], w[2]), "a neutral hypothesis names a figure of the picture: " + s);
        }
        n++;
      }
    }
    assertEquals(3 * 120, n);
  }
}
