package dev.mplug.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mplug.api.Judgement;
import java.util.Locale;

/** How {@code entail} and {@code verify} print a {@link Judgement}: "label probability", or JSON. */
final class Verdicts {
  private Verdicts() {}

  /** @param fields the request's fields, name and value alternating, written first in the JSON object */
  static void print(Judgement j, boolean json, String... fields) throws JsonProcessingException {
    if (!json) {
      System.out.println(j.label() + " " + String.format(Locale.ROOT, "%.4f", j.confidence()));
      return;
    }
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode out = mapper.createObjectNode();
    for (int i = 0; i < fields.length; i += 2) out.put(fields[i], fields[i + 1]);
    out.put("label", j.label());
    ObjectNode p = out.putObject("probabilities");
    j.probabilities().forEach(p::put);
    System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(out));
  }
}
