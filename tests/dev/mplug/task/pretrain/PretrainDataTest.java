package dev.mplug.task.pretrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.synth.ShapesWorld;
import dev.mplug.data.synth.SynthFiles;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.VocabularyBuilder;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pretraining stream hands the task the cleaned caption strings, not text decoded back from token ids. */
class PretrainDataTest {
  @TempDir Path root;

  @Test
  void captionsWithUnknownWordsReachTheTaskUnchanged() throws IOException {
    ShapesWorld.generate(root, new ShapesWorld.Config(4, 0, 1, 32, 0.25, 4));
    Path vocab = root.resolve("small-vocab.txt");
    new VocabularyBuilder().add("a red circle").write(vocab);   // no "zebra", "on", "the", "left"
    BertTokenizer tok = BertTokenizer.load(vocab);
    Path annotations = root.resolve("captions.json");
    Files.writeString(annotations, "[{\"image\": \"" + SynthFiles.image(0) + "\", \"caption\": \"A red Zebra, on the "
        + "LEFT!\"}, {\"image\": \"" + SynthFiles.image(1) + "\", \"caption\": \"a red circle\"}]");
    PretrainConfig.Data data = new PretrainConfig.Data(annotations, root, vocab, 2, 30, 16, 0, false, 0.0);
    try (TensorScope _ = TensorScope.open(); PretrainData stream = new PretrainData(data, 32, tok, 0, 0, 1)) {
      PretrainBatch b = stream.next();
      assertEquals(List.of("a red circle", "a red zebra on the left"), b.captions().stream().sorted().toList());
      int row = b.captions().indexOf("a red zebra on the left");
      long[] ids = Tensors.toLongs(b.ids().select(0, row));
      assertTrue(tok.tokenize(b.captions().get(row)).contains("[UNK]"), "the vocabulary lacks the new words");
      assertNotEquals(b.captions().get(row), tok.decode(ids), "decoding the ids would have lost the words");
    }
  }
}
