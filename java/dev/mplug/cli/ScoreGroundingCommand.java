package dev.mplug.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.eval.ResultFile;
import dev.mplug.eval.grounding.GroundingAccuracy;
import dev.mplug.eval.grounding.GroundingAnnotations;
import dev.mplug.eval.grounding.NormalizedBox;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mplug score grounding}: referring-expression accuracy at IoU >= 0.5 of a results file
 * {@code [{"ref_id", "bbox": [x1, y1, x2, y2]}]}, the box normalised over the image (x / width, y / height; see
 * {@link GroundingAccuracy} for the conversion from a head's canvas coordinates).
 */
@Command(name = "grounding", mixinStandardHelpOptions = true,
    description = "Grounding accuracy (IoU >= 0.5, prediction clamped to [0, 1]) as the official mPLUG evaluation: "
        + "JSON {accuracy (a fraction), count, per_item (IoU by ref_id)} on stdout.")
public final class ScoreGroundingCommand implements Callable<Integer> {
  @Option(names = "--annotations", required = true, description = "Referring expressions: [{\"image\", \"text\", "
      + "\"bbox\": [x, y, w, h] in pixels, \"ref_id\"}].")
  Path annotations;

  @Option(names = "--results", required = true, description = "Results: [{\"ref_id\", \"bbox\": [x1, y1, x2, y2]}], "
      + "x divided by the image width and y by its height, one per annotated ref_id.")
  Path results;

  @Option(names = "--images", description = "Folder the annotations' image paths are relative to; their sizes "
      + "normalise the annotated boxes (default: the annotation file's folder).")
  Path images;

  @Override
  public Integer call() throws JsonProcessingException {
    Path root = images != null ? images : annotations.toAbsolutePath().getParent();
    Map<String, NormalizedBox> truth = GroundingAnnotations.read(annotations, root);
    Map<String, NormalizedBox> predictions = ResultFile.read(results, "ref_id", truth.keySet(),
        ScoreGroundingCommand::box);
    GroundingAccuracy.Report report = GroundingAccuracy.score(truth, predictions);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("accuracy", report.accuracy());
    json.put("count", report.count());
    json.put("per_item", report.perItem());
    System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
    return Failure.OK;
  }

  private static NormalizedBox box(ResultFile.Entry e) {
    double[] b = e.numbers("bbox", 4);
    try {
      return new NormalizedBox((float) b[0], (float) b[1], (float) b[2], (float) b[3]);
    } catch (IllegalArgumentException bad) {
      throw e.bad("\"bbox\": " + bad.getMessage());
    }
  }
}
