package dev.mplug.data.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import dev.mplug.data.Box;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AnnotationDatasetTest {
  @TempDir Path root;

  Path write(String name, String text) throws IOException {
    Path f = root.resolve(name);
    Files.writeString(f, text);
    return f;
  }

  static BadSampleException bad(Dataset<?> d, int i) {
    return assertThrows(BadSampleException.class, () -> d.get(i));
  }

  @Test
  void pretrainCaptionIsAStringOrAListAndBadFieldsNameFileLineAndField() throws IOException {
    Path f = write("pretrain.json", """
        [{"image": "images/1.jpg", "caption": "a red circle"},
         {"image": "images/2.jpg", "caption": ["a", "b"]},
         {"image": "images/3.jpg", "caption": 3},
         {"caption": "no image"},
         {"image": "/abs/4.jpg", "caption": "x"},
         {"image": "../5.jpg", "caption": "x"},
         {"image": "images/6.jpg", "caption": []},
         ["not", "an", "object"]]
        """);
    AnnotationDataset<PretrainSample> d = AnnotationDataset.pretrain(f, root);
    assertEquals(8, d.size());
    assertEquals(new PretrainSample("images/1.jpg", List.of("a red circle")), d.get(0));
    assertEquals(List.of("a", "b"), d.get(1).captions());
    assertEquals(root.resolve("images/2.jpg"), d.resolve(d.get(1).image()));
    BadSampleException e = bad(d, 2);
    assertEquals(f + ":3", e.source());
    assertEquals("field \"caption\" must be a string or a non-empty list of strings, got number 3", e.reason());
    assertEquals("missing field \"image\"", bad(d, 3).reason());
    assertTrue(bad(d, 4).reason().contains("relative to the dataset root"), bad(d, 4).reason());
    assertTrue(bad(d, 5).reason().contains("inside the dataset root"), bad(d, 5).reason());
    assertTrue(bad(d, 6).reason().contains("non-empty list"), bad(d, 6).reason());
    assertTrue(bad(d, 7).reason().startsWith("expected a JSON object, got list"), bad(d, 7).reason());
    assertEquals(f + ":8", d.source(7));
    assertEquals(6, d.problems().size());
  }

  @Test
  void captionAcceptsStringOrNumberImageIds() throws IOException {
    Path f = write("coco.json", """
        [{"image": "val/1.jpg", "caption": ["one", "two"], "image_id": "391895"},
         {"image": "val/2.jpg", "caption": "three", "image_id": 42},
         {"image": "val/3.jpg", "caption": "four", "image_id": [1]}]
        """);
    AnnotationDataset<CaptionSample> d = AnnotationDataset.caption(f, root);
    assertEquals(new CaptionSample("val/1.jpg", List.of("one", "two"), "391895"), d.get(0));
    assertEquals("42", d.get(1).imageId());
    assertTrue(bad(d, 2).reason().startsWith("field \"image_id\" must be a string or integer id"));
  }

  @Test
  void vqaWeightsOcrAndObjectLabels() throws IOException {
    Path f = write("vqa.json", """
        [{"question_id": 1, "question": "What colour?", "answer": ["red", "red", "blue", "red"], "image": "a.jpg",
          "dataset": "vqa", "ocr": ["STOP", "Sign!"], "object_label": ["car", "sign"]},
         {"question_id": 2, "question": "Where?", "answer": ["left", "up"], "image": "b.jpg", "dataset": "vg"},
         {"question_id": 3, "question": "What?", "image": "c.jpg", "dataset": "vqa",
          "ocr": [[[0, 0, 1, 1], "open"]], "object_label": "cup&&table"},
         {"question_id": 4, "question": "What?", "image": "d.jpg", "dataset": "coco"},
         {"question_id": "x", "question": "What?", "image": "d.jpg"}]
        """);
    AnnotationDataset<VqaSample> d = AnnotationDataset.vqa(f, root);
    VqaSample a = d.get(0);
    assertEquals(List.of("red", "blue"), a.answers());
    assertEquals(List.of(0.75, 0.25), a.weights());
    assertEquals("What colour? [SEP] stop sign [SEP] car sign", a.questionWithContext(true, true, 30));
    assertEquals("What colour? [SEP] car sign", a.questionWithContext(false, true, 30));
    assertEquals("What colour?", a.questionWithContext(false, false, 30));
    assertEquals("What colour? [SEP] stop", a.questionWithContext(true, false, 1));
    VqaSample vg = d.get(1);
    assertEquals(List.of("left", "up"), vg.answers());
    assertEquals(List.of(0.5, 0.5), vg.weights());
    VqaSample test = d.get(2);
    assertEquals(List.of(), test.answers());
    assertEquals(List.of("open"), test.ocr());
    assertEquals(List.of("cup", "table"), test.objectLabels());
    assertEquals(3, test.questionId());
    assertTrue(bad(d, 3).reason().contains("\"dataset\" must be \"vqa\", \"vg\" or \"gqa\""));
    assertEquals("field \"question_id\" must be an integer, got string \"x\"", bad(d, 4).reason());
  }

  @Test
  void retrievalNumbersImagesAndEvalBuildsGoldMaps() throws IOException {
    Path train = write("re_train.json", """
        [{"image": "a.jpg", "caption": "one", "image_id": "img_a"},
         {"image": "b.jpg", "caption": "two", "image_id": "img_b"},
         {"image": "a.jpg", "caption": 7, "image_id": "img_c"},
         {"image": "a.jpg", "caption": "three", "image_id": "img_a"},
         {"image": "c.jpg", "caption": "four", "image_id": "img_c"}]
        """);
    AnnotationDataset<RetrievalSample> t = AnnotationDataset.retrieval(train, root);
    assertEquals(0, t.get(0).imageIndex());
    assertEquals(1, t.get(1).imageIndex());
    assertEquals(0, t.get(3).imageIndex());
    assertEquals(2, t.get(4).imageIndex());   // the bad entry 2 did not take an index

    Path eval = write("re_test.json", """
        [{"image": "a.jpg", "caption": ["a1", "a2"]},
         {"image": "b.jpg", "caption": 5},
         {"image": "c.jpg", "caption": ["c1", "c2", "c3"]}]
        """);
    AnnotationDataset<RetrievalEvalSample> e = AnnotationDataset.retrievalEval(eval, root);
    RetrievalGold gold = RetrievalGold.of(e);
    assertEquals(List.of("a1", "a2", "c1", "c2", "c3"), gold.texts());
    assertArrayEquals(new int[] {0, 0, 2, 2, 2}, gold.textToImage());
    assertArrayEquals(new int[] {0, 1}, gold.imageToTexts()[0]);
    assertArrayEquals(new int[] {}, gold.imageToTexts()[1]);
    assertArrayEquals(new int[] {2, 3, 4}, gold.imageToTexts()[2]);
    assertEquals(2, e.get(2).imageIndex());
    assertEquals(2, e.get(2).firstText());
  }

  @Test
  void groundingBoxes() throws IOException {
    Path f = write("refcoco.json", """
        [{"image": "a.jpg", "text": "left dog", "bbox": [10, 20.5, 30, 40], "ref_id": 7},
         {"image": "a.jpg", "text": "x", "bbox": [1, 2, 3], "ref_id": 8},
         {"image": "a.jpg", "text": "x", "bbox": [1, 2, -3, 4], "ref_id": 9},
         {"image": "a.jpg", "text": "x", "bbox": [1, 2, "3", 4], "ref_id": 9}]
        """);
    AnnotationDataset<GroundingSample> d = AnnotationDataset.grounding(f, root);
    assertEquals(new GroundingSample("a.jpg", "left dog", new Box(10, 20.5, 40, 60.5), 7), d.get(0));
    assertArrayEquals(new double[] {10, 20.5, 30, 40}, d.get(0).box().xywh());
    assertTrue(bad(d, 1).reason().contains("a list of 4 numbers"));
    assertTrue(bad(d, 2).reason().contains("w, h >= 0"));
    assertTrue(bad(d, 3).reason().contains("a list of 4 numbers"));
  }

  @Test
  void nlvr2AndSnliVeLabels() throws IOException {
    Path n = write("nlvr.json", """
        [{"images": ["l.png", "r.png"], "sentence": "two dogs", "label": "True"},
         {"images": ["l.png", "r.png"], "sentence": "one dog", "label": "False"},
         {"images": ["l.png"], "sentence": "x", "label": "True"},
         {"images": ["l.png", "r.png"], "sentence": "x", "label": true}]
        """);
    AnnotationDataset<Nlvr2Sample> d = AnnotationDataset.nlvr2(n, root);
    assertTrue(d.get(0).label());
    assertFalse(d.get(1).label());
    assertEquals(List.of("l.png", "r.png"), d.get(1).media());
    assertTrue(bad(d, 2).reason().contains("2 images"));
    assertEquals("field \"label\" must be a string, got boolean true", bad(d, 3).reason());

    Path s = write("ve.json", """
        [{"image": "1.jpg", "sentence": "a", "label": "entailment"},
         {"image": "2.jpg", "sentence": "b", "label": "neutral"},
         {"image": "3.jpg", "sentence": "c", "label": "contradiction"},
         {"image": "4.jpg", "sentence": "d", "label": "maybe"}]
        """);
    AnnotationDataset<SnliVeSample> v = AnnotationDataset.snliVe(s, root);
    assertEquals(2, v.get(0).label().classId());
    assertEquals(1, v.get(1).label().classId());
    assertEquals(0, v.get(2).label().classId());
    assertTrue(bad(v, 3).reason().contains("\"maybe\""));
  }

  @Test
  void videoJsonLinesReportMalformedLinesAndInvalidUtf8WithTheirLineNumbers() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes("""
        {"video": "videos/0001.mp4", "caption": "a red circle moves left"}
        {"video": "videos/0002.mp4", "caption": ["two", "captions"]}

        {"video": "videos/0003.mp4", "caption": "broken
        """.getBytes(StandardCharsets.UTF_8));
    b.writeBytes("{\"video\": \"videos/0004.mp4\", \"caption\": \"caf".getBytes(StandardCharsets.UTF_8));
    b.write(0xC3);                                  // a lone lead byte: invalid UTF-8
    b.writeBytes("\"}\n{\"video\": \"videos/0005.mp4\", \"caption\": \"ok\"}\n".getBytes(StandardCharsets.UTF_8));
    Path f = root.resolve("msrvtt.jsonl");
    Files.write(f, b.toByteArray());
    AnnotationDataset<VideoCaptionSample> d = AnnotationDataset.videoCaption(f, root);
    assertEquals(5, d.size());                      // the blank line is skipped, line numbers are not
    assertEquals(new VideoCaptionSample("videos/0001.mp4", List.of("a red circle moves left")), d.get(0));
    assertEquals(List.of("two", "captions"), d.get(1).captions());
    BadSampleException malformed = bad(d, 2);
    assertEquals(f + ":4", malformed.source());
    assertTrue(malformed.reason().startsWith("malformed JSON"), malformed.reason());
    BadSampleException utf8 = bad(d, 3);
    assertEquals(f + ":5", utf8.source());
    assertTrue(utf8.reason().startsWith("invalid UTF-8 at byte"), utf8.reason());
    assertEquals("videos/0005.mp4", d.get(4).video());
    assertEquals(f + ":6", d.source(4));

    Path qa = write("msrvtt_qa.jsonl", """
        {"video": "v/1.mp4", "question": "what moves?", "answer": "circle"}
        {"video": "v/2.mp4", "question": "what moves?", "answer": ["circle"]}
        """);
    AnnotationDataset<VideoQaSample> q = AnnotationDataset.videoQa(qa, root);
    assertEquals(new VideoQaSample("v/1.mp4", "what moves?", "circle"), q.get(0));
    assertEquals("field \"answer\" must be a string, got list [\"circle\"]", bad(q, 1).reason());
  }

  @Test
  void invalidUtf8InsideAJsonArraySpoilsOnlyThatEntry() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes("[{\"image\": \"1.jpg\", \"caption\": \"fine\"},\n {\"image\": \"2.jpg\", \"caption\": \"bad "
        .getBytes(StandardCharsets.UTF_8));
    b.write(0xFF);
    b.writeBytes("\"},\n {\"image\": \"3.jpg\", \"caption\": \"caf\u00e9\"}]".getBytes(StandardCharsets.UTF_8));
    Path f = root.resolve("pretrain.json");
    Files.write(f, b.toByteArray());
    AnnotationDataset<PretrainSample> d = AnnotationDataset.pretrain(f, root);
    assertEquals(List.of("fine"), d.get(0).captions());
    BadSampleException e = bad(d, 1);
    assertEquals(f + ":2", e.source());
    assertTrue(e.reason().startsWith("invalid UTF-8"), e.reason());
    assertEquals(List.of("caf\u00e9"), d.get(2).captions());
  }

  @Test
  void unreadableFilesAreClearErrors() throws IOException {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> AnnotationDataset.pretrain(root.resolve("none.json"), root));
    assertTrue(missing.getMessage().contains("none.json does not exist"), missing.getMessage());
    Path broken = write("broken.json", "[{\"image\": \"a.jpg\", \"caption\": \"x\"},\n {\"image\": }]");
    IllegalArgumentException syntax = assertThrows(IllegalArgumentException.class,
        () -> AnnotationDataset.pretrain(broken, root));
    assertTrue(syntax.getMessage().startsWith(broken + ":2:"), syntax.getMessage());
    assertTrue(syntax.getMessage().contains("malformed JSON"), syntax.getMessage());
    Path empty = write("empty.json", "  \n");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> AnnotationDataset.pretrain(empty, root))
        .getMessage().contains("is empty"));
    Path ok = write("ok.json", "[]");
    IllegalArgumentException noRoot = assertThrows(IllegalArgumentException.class,
        () -> AnnotationDataset.pretrain(ok, root.resolve("nope")));
    assertTrue(noRoot.getMessage().contains("is not a directory"), noRoot.getMessage());
    assertEquals(0, AnnotationDataset.pretrain(ok, root).size());
  }

  @Test
  void readByTaskName() throws IOException {
    Path f = write("ve.json", "[{\"image\": \"1.jpg\", \"sentence\": \"a\", \"label\": \"neutral\"}]");
    AnnotationDataset<Sample> d = AnnotationDataset.read(Task.named("snli-ve"), f, root);
    assertEquals(Task.SNLI_VE, d.get(0).task());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Task.named("nope")).getMessage()
        .contains("pretrain, caption, vqa"));
  }
}
