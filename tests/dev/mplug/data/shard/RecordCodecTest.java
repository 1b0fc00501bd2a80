package dev.mplug.data.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.Box;
import dev.mplug.data.dataset.CaptionSample;
import dev.mplug.data.dataset.GroundingSample;
import dev.mplug.data.dataset.Nlvr2Sample;
import dev.mplug.data.dataset.PretrainSample;
import dev.mplug.data.dataset.RetrievalEvalSample;
import dev.mplug.data.dataset.RetrievalSample;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.dataset.SnliVeSample;
import dev.mplug.data.dataset.VideoCaptionSample;
import dev.mplug.data.dataset.VideoQaSample;
import dev.mplug.data.dataset.VqaSample;
import dev.mplug.data.proto.Record;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordCodecTest {
  @Test
  void everyTaskSurvivesTheRoundTrip() {
    List<Sample> samples = List.of(
        new PretrainSample("i/1.jpg", List.of("a", "b")),
        new CaptionSample("i/2.jpg", List.of("c"), "391895"),
        new VqaSample(7, "what?", List.of("red", "blue"), List.of(0.75, 0.25), "i/3.jpg", "vqa", List.of("stop"),
            List.of("car")),
        new RetrievalSample("i/4.jpg", "d", "img4", 3),
        new RetrievalEvalSample("i/5.jpg", List.of("e", "f"), 4, 9),
        new GroundingSample("i/6.jpg", "left dog", Box.ofXywh(1, 2.5, 3, 4), 11),
        new VideoCaptionSample("v/1.mp4", List.of("g")),
        new VideoQaSample("v/2.mp4", "what moves?", "circle"),
        new Nlvr2Sample(List.of("l.png", "r.png"), "two dogs", true),
        new SnliVeSample("i/7.jpg", "h", SnliVeSample.Entailment.NEUTRAL));
    for (Sample s : samples) {
      List<byte[]> media = new ArrayList<>();
      for (String name : s.media()) media.add(("bytes of " + name).getBytes(StandardCharsets.UTF_8));
      Record r = RecordCodec.encode(s, "ann.json:3", media);
      assertEquals(s.task().cliName(), r.getTask());
      assertEquals("ann.json:3", r.getSource());
      for (int i = 0; i < media.size(); i++) assertArrayEquals(media.get(i), r.getMedia(i).getData().toByteArray());
      assertEquals(s, RecordCodec.decode(r, "shard#0"), s.task() + " round trip");
    }
  }

  @Test
  void recordsThatDoNotFitTheirTaskAreBadSamples() {
    BadSampleException unknown = assertThrows(BadSampleException.class,
        () -> RecordCodec.decode(Record.newBuilder().setTask("dance").build(), "s#1"));
    assertEquals("s#1", unknown.source());
    assertTrue(unknown.reason().contains("unknown task"), unknown.reason());
    BadSampleException noMedia = assertThrows(BadSampleException.class,
        () -> RecordCodec.decode(Record.newBuilder().setTask("pretrain").addCaptions("x").build(), "s#2"));
    assertTrue(noMedia.reason().contains("missing media 0"), noMedia.reason());
  }
}
