package dev.mplug.data.synth;

/**
 * The file names of a generated shapes world, relative to its root (formats: ../shared data-formats contract).
 * Image and video paths inside the annotation files are relative to the same root.
 */
public final class SynthFiles {
  private SynthFiles() {}

  public static final String IMAGE_DIR = "images";
  public static final String VIDEO_DIR = "videos";

  /** Pretraining: {@code [{"image", "caption": [str, ...]}]}, training images. */
  public static final String PRETRAIN = "pretrain.json";
  /** COCO-Karpathy captioning: train one entry per caption, test a caption list per image. */
  public static final String CAPTION_TRAIN = "caption_train.json";
  public static final String CAPTION_TEST = "caption_test.json";
  /** VQA: train with answers; test without "answer" (as the official test files); val = the test questions WITH answers. */
  public static final String VQA_TRAIN = "vqa_train.json";
  public static final String VQA_TEST = "vqa_test.json";
  public static final String VQA_VAL = "vqa_val.json";
  /** ALBEF retrieval: train one entry per caption with image_id, test a caption list per image. */
  public static final String RETRIEVAL_TRAIN = "retrieval_train.json";
  public static final String RETRIEVAL_TEST = "retrieval_test.json";
  /** Referring expressions {@code [{"image", "text", "bbox": [x, y, w, h], "ref_id"}]}: training and test images. */
  public static final String GROUNDING = "grounding.json";
  public static final String GROUNDING_TEST = "grounding_test.json";
  /** NLVR2 (ALBEF's format): {@code [{"images": [left, right], "sentence", "label": "True" | "False"}]}. */
  public static final String NLVR2_TRAIN = "nlvr2_train.json";
  public static final String NLVR2_TEST = "nlvr2_test.json";
  /** SNLI-VE (ALBEF's format): {@code [{"image", "sentence", "label": "entailment" | "neutral" | "contradiction"}]}. */
  public static final String SNLI_VE_TRAIN = "ve_train.json";
  public static final String SNLI_VE_TEST = "ve_test.json";
  /** Video JSONL: captions {@code {"video", "caption": [...]}} and QA {@code {"video", "question", "answer"}}. */
  public static final String VIDEO_CAPTION = "video_caption.jsonl";
  public static final String VIDEO_QA = "video_qa.jsonl";
  /** The same split by clip (format 4): the last {@code testVideos()} clips are the test clips. */
  public static final String VIDEO_CAPTION_TRAIN = "video_caption_train.jsonl";
  public static final String VIDEO_CAPTION_TEST = "video_caption_test.jsonl";
  public static final String VIDEO_QA_TRAIN = "video_qa_train.jsonl";
  public static final String VIDEO_QA_TEST = "video_qa_test.jsonl";
  /**
   * A BERT-layout {@code vocab.txt} for {@code BertTokenizer.load} (the real bert-base-uncased vocabulary is not
   * shipped): [PAD] 0, [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, [unused99..993] at 104..998 as in
   * bert-base-uncased (grounding's coordinate tokens are [unused339..676]), then every word of the world's cleaned
   * texts, sorted (about 1,160 tokens in all).
   */
  public static final String VOCAB = "vocab.txt";
  /** The generator's settings and counts, written last: its presence means the world is complete. */
  public static final String MANIFEST = "shapes_world.json";

  public static String image(int index) {
    return IMAGE_DIR + "/" + id(index) + ".jpg";
  }

  public static String video(int index) {
    return VIDEO_DIR + "/" + id(index) + ".avi";
  }

  /** The image_id of image {@code index}: its zero-padded number, as the file stem. */
  public static String id(int index) {
    return String.format("%06d", index);
  }
}
