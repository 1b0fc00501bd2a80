package dev.mplug.api;

import dev.mplug.data.image.Images;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.task.DownstreamTask;
import dev.mplug.task.FinetuneConfig;
import dev.mplug.task.Tasks;
import dev.mplug.task.TrainedModel;
import dev.mplug.task.caption.CaptionTask;
import dev.mplug.task.classify.ClassificationTask;
import dev.mplug.task.grounding.BoxTokens;
import dev.mplug.task.grounding.GroundingHead;
import dev.mplug.task.pretrain.PretrainConfig;
import dev.mplug.task.retrieval.RetrievalHead;
import dev.mplug.task.retrieval.RetrievalTask;
import dev.mplug.task.video.VideoAnswering;
import dev.mplug.task.video.VideoCaptionTask;
import dev.mplug.task.video.VideoQaTask;
import dev.mplug.task.video.VideoRetrievalTask;
import dev.mplug.task.vqa.AnswerList;
import dev.mplug.task.vqa.VqaHead;
import dev.mplug.task.vqa.VqaTask;
import dev.mplug.torch.Autocast;
import dev.mplug.torch.ComputeDevice;
import dev.mplug.torch.NativeHeap;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A fine-tuned mPLUG answering from plain Java: captions, VQA answers, retrieval rankings, grounding boxes, visual
 * entailment and NLVR2 verdicts for images given as files, bytes or {@link java.awt.image.BufferedImage}s; captions,
 * answers and rankings for video clips ({@link VideoInput}). The answers are those of {@code mplug evaluate}: the same
 * image, clip and text preparation, the task's own head and decoding (beam search with the key/value cache, greedy box
 * tokens, ITC top-k re-ranked by ITM, the classifier's arg-max, the video QA answer-list ranking).
 *
 * <pre>{@code
 * try (MPlugModel vqa = MPlugModel.builder(Path.of("runs/vqa-demo/checkpoints/step-000000300"))
 *     .task(Task.VQA).vocab(Path.of("data/shapes/vocab.txt")).beamSize(5).build()) {
 *   Answer a = vqa.answer(ImageInput.of(Path.of("data/shapes/images/000000.png")), "what color is the circle?");
 *   System.out.println(a.text());
 * }
 * }</pre>
 *
 * <p><b>Checkpoints:</b> a trainer checkpoint folder ({@code step-N/}, model config in its {@code trainer.json}), a
 * {@code .safetensors} written by this project (config in its metadata), or an official {@code .pth} with
 * {@link Builder#model} naming its model config. The task is given with {@link Builder#task} or read from the
 * parts the checkpoint's config builds: vision + decoder only is captioning, encoders + fusion + ITC/ITM heads
 * without a decoder is retrieval; VQA, grounding, SNLI-VE and NLVR2 build the same parts, and each video task those of
 * its image task, so for them (and for a pretrained checkpoint, which has every part) the task must be given, unless a
 * fine-tuning folder records it. A folder fine-tuned for another task is refused, except between an image task and
 * its video task (video-qa from a VQA checkpoint is the paper's zero-shot video QA). The tokenizer's
 * {@code vocab.txt} is {@link Builder#vocab}, by default the one in the checkpoint folder or beside the checkpoint
 * file.
 *
 * <p><b>Clips:</b> F frames ({@link Builder#frames}, default the task's {@code video.frames}: 8) sampled uniformly
 * from each clip, each frame through the ViT, their tokens concatenated ({@code VideoStream}). Video QA ranks an answer
 * list ({@link Builder#answers}), which the model must be given: a checkpoint does not record it.
 *
 * <p><b>Batching:</b> the {@code ...All} methods run {@link Builder#batchSize} requests per forward pass; the answers
 * equal those of one request at a time (padding is masked; the tests check it).
 *
 * <p><b>Threads:</b> a model is safe to share between threads. Requests are prepared (images decoded and resized,
 * texts tokenised) in the calling threads in parallel; the forward passes take one fair lock, one at a time, each
 * using libtorch's intra-op thread pool ({@link Builder#threads}). For throughput, send batches; a second model (its
 * own weights) gives a second forward lane.
 *
 * <p><b>Device:</b> {@link Builder#device} puts the weights on a CUDA device ({@code "cuda:N"}; default the CPU);
 * images and texts are prepared on the host, copied there for each forward pass, and the answers read back.
 *
 * <p><b>Memory:</b> {@link #close()} frees the weights' native memory at once (not at the next garbage
 * collection) and returns the C heap's free pages to the system; every request frees its tensors when it returns.
 */
public final class MPlugModel implements AutoCloseable {
  /** Requests per forward pass of the {@code ...All} methods unless {@link Builder#batchSize} says otherwise. */
  public static final int DEFAULT_BATCH_SIZE = 8;

  private final Path checkpoint;
  private final Task task;
  private final Precision precision;
  private final ComputeDevice device;
  private final int batchSize;
  private final long maxPixels;
  private final MPlug model;
  private final Captioner captioner;       // caption, video-caption
  private final Answerer answerer;
  private final VideoAnswering clipAnswerer;
  private final AnswerList answerList;     // video-qa's, freed by close()
  private final Retriever retriever;       // retrieval, video-retrieval
  private final Grounder grounder;
  private final Judge judge;
  private final int imageRes;
  private final int frames;                // per clip (video tasks)
  private final ReentrantLock lock = new ReentrantLock(true);
  private boolean closed;

  /** Loads {@code checkpoint} with the defaults (its task read from it, vocab.txt beside it). */
  public static MPlugModel load(Path checkpoint) {
    return builder(checkpoint).build();
  }

  /** Options for loading {@code checkpoint}; {@link Builder#build()} loads it. */
  public static Builder builder(Path checkpoint) {
    return new Builder(checkpoint);
  }

  /** How a model is loaded and decodes; every setter validates its value, {@link #build()} the combination. */
  public static final class Builder {
    final Path checkpoint;
    Task task;
    Path vocab;
    String model;
    Integer beamSize;
    Integer maxLength;
    Integer topK;
    Integer frames;
    Path answerFile;
    List<String> answers;
    private int threads;
    private Precision precision = Precision.FP32;
    private ComputeDevice device = ComputeDevice.CPU;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private long maxPixels = Images.DEFAULT_MAX_PIXELS;

    private Builder(Path checkpoint) {
      if (checkpoint == null) throw new IllegalArgumentException("checkpoint is missing");
      this.checkpoint = checkpoint;
    }

    /** The task the checkpoint was fine-tuned for (default: read from the checkpoint where it can be). */
    public Builder task(Task task) {
      this.task = task;
      return this;
    }

    /** The BERT {@code vocab.txt} the model was trained with (default: vocab.txt in or beside the checkpoint). */
    public Builder vocab(Path vocab) {
      this.vocab = vocab;
      return this;
    }

    /** A model preset (tiny, base, large) or model config file, for checkpoints without a stored config (.pth). */
    public Builder model(String presetOrConfigFile) {
      this.model = presetOrConfigFile;
      return this;
    }

    /** Beams of the answer or caption search (VQA and captioning; default 5, the official inference). */
    public Builder beamSize(int beams) {
      if (beams < 1) throw new IllegalArgumentException("beam size must be >= 1, got " + beams);
      this.beamSize = beams;
      return this;
    }

    /** Tokens generated at most (VQA: default 10; captioning: default 25, with at least min(8, this)). */
    public Builder maxLength(int tokens) {
      if (tokens < 1) throw new IllegalArgumentException("max length must be >= 1, got " + tokens);
      this.maxLength = tokens;
      return this;
    }

    /**
     * Retrieval: candidates re-ranked by ITM per query (default 256, the official COCO k); video QA: answers scored in
     * full after the first-token ranking (default 128, the official k_test).
     */
    public Builder topK(int k) {
      if (k < 1) throw new IllegalArgumentException("top k must be >= 1, got " + k);
      this.topK = k;
      return this;
    }

    /** Video tasks: frames sampled uniformly per clip (default 8, the tasks' {@code video.frames}). */
    public Builder frames(int frames) {
      if (frames < 1) throw new IllegalArgumentException("frames must be >= 1, got " + frames);
      this.frames = frames;
      return this;
    }

    /** Video QA: the answers to rank, from a JSON list or the official {@code train_ans2label.json} (its keys). */
    public Builder answers(Path file) {
      if (file == null) throw new IllegalArgumentException("answer list file is missing");
      this.answerFile = file;
      this.answers = null;
      return this;
    }

    /** Video QA: the answers to rank (the list's first of equal scores wins). */
    public Builder answers(List<String> answers) {
      if (answers == null || answers.isEmpty()) throw new IllegalArgumentException("the answer list is empty");
      for (int i = 0; i < answers.size(); i++) requireText(answers.get(i), "answer", i);
      this.answers = List.copyOf(answers);
      this.answerFile = null;
      return this;
    }

    /**
     * libtorch's intra-op and BLAS threads; 0 (default) keeps the process setting ({@code MPLUG_THREADS}, else all
     * cores). The setting is process-wide: it applies to every model of the JVM.
     */
    public Builder threads(int threads) {
      if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = default), got " + threads);
      this.threads = threads;
      return this;
    }

    /** fp32 (default) or bf16 autocast. */
    public Builder precision(Precision precision) {
      if (precision == null) throw new IllegalArgumentException("precision is missing");
      this.precision = precision;
      return this;
    }

    /**
     * Where the weights live and the forward passes run: {@code "cpu"} (default) or {@code "cuda:N"}; a device this
     * libtorch cannot use (the CPU build, no visible GPU, an index past the last) is refused here, in one line.
     */
    public Builder device(String device) {
      if (device == null) throw new IllegalArgumentException("device is missing");
      this.device = ComputeDevice.parse(device, "device").requireAvailable("device");
      return this;
    }

    /** Requests per forward pass of the {@code ...All} methods (default {@value #DEFAULT_BATCH_SIZE}). */
    public Builder batchSize(int requests) {
      if (requests < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + requests);
      this.batchSize = requests;
      return this;
    }

    /** Images with more pixels are refused from their header, before decoding (default: PIL's bomb limit). */
    public Builder maxPixels(long pixels) {
      if (pixels < 1) throw new IllegalArgumentException("max pixels must be >= 1, got " + pixels);
      this.maxPixels = pixels;
      return this;
    }

    /** Loads the model; a missing file, unknown task or an option the task does not have is an error. */
    public MPlugModel build() {
      return new MPlugModel(this);
    }
  }

  private MPlugModel(Builder b) {
    if (!Files.exists(b.checkpoint)) {
      throw new IllegalArgumentException("checkpoint " + b.checkpoint + " does not exist");
    }
    TorchRuntime.load();
    if (b.threads > 0) TorchRuntime.setThreads(b.threads);
    MPlugConfig config = b.model != null ? PretrainConfig.modelConfig(b.model) : null;
    this.checkpoint = b.checkpoint;
    this.task = TaskChoice.task(b, config);
    this.precision = b.precision;
    this.device = b.device;
    this.batchSize = b.batchSize;
    this.maxPixels = b.maxPixels;
    FinetuneConfig settings = FinetuneConfig.defaults(task.label(), TaskChoice.overrides(b, task));
    DownstreamTask<?> downstream = b.answers != null ? new VideoQaTask(settings, b.answers) : Tasks.of(settings);
    Path vocabFile = TaskChoice.vocabFile(b);
    BertTokenizer tokenizer = BertTokenizer.load(vocabFile);
    Vocabulary vocab = tokenizer.vocabulary();
    this.model = TrainedModel.load(b.checkpoint, config, downstream, device).model();
    this.imageRes = model.config().vision().imageRes();
    FinetuneConfig.Data data = settings.data();
    AnswerList list = null;
    try {
      this.captioner = switch (downstream) {
        case CaptionTask c -> new Captioner(c.head(model, tokenizer), tokenizer);
        case VideoCaptionTask c -> new Captioner(c.head(model, tokenizer), tokenizer);
        default -> null;
      };
      this.answerer = task != Task.VQA ? null
          : new Answerer(new VqaHead(model, vocab.padId()), tokenizer, ((VqaTask) downstream).settings()
              .generation(model.config().generation(), vocab.clsId(), vocab.sepId()), data.maxWords(),
              data.maxTokens());
      if (downstream instanceof VideoQaTask qa) {
        list = qa.answerList(tokenizer, model.config().text().maxPositions());
        this.clipAnswerer = new VideoAnswering(VideoQaTask.head(model, tokenizer), tokenizer, list,
            qa.settings().answerListK(), data.maxTokens());
      } else {
        this.clipAnswerer = null;
      }
      this.answerList = list;
      this.retriever = switch (downstream) {
        case RetrievalTask r -> new Retriever(new RetrievalHead(model), tokenizer, r.ranking(), data.maxWords(),
            data.maxTokens());
        case VideoRetrievalTask r -> new Retriever(VideoRetrievalTask.head(model), tokenizer, r.ranking(),
            data.maxWords(), data.maxTokens());
        default -> null;
      };
      this.frames = switch (downstream) {
        case VideoCaptionTask c -> c.frames();
        case VideoQaTask q -> q.frames();
        case VideoRetrievalTask r -> r.frames();
        default -> 0;
      };
      this.grounder = task != Task.GROUNDING ? null
          : new Grounder(new GroundingHead(model, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL), tokenizer,
              data.maxTokens());
      this.judge = task != Task.SNLI_VE && task != Task.NLVR2 ? null
          : new Judge(((ClassificationTask) downstream).head(model), tokenizer, data.maxWords(), data.maxTokens());
    } catch (RuntimeException e) {
      if (list != null) list.close();
      release(model);
      throw new IllegalArgumentException("checkpoint " + b.checkpoint + " with " + vocabFile + ": " + e.getMessage(),
          e);
    }
  }

  /** The task this model serves. */
  public Task task() {
    return task;
  }

  /** Where the weights live and the forward passes run: "cpu" or "cuda:N". */
  public String device() {
    return device.label();
  }

  /** The side of the square images the model reads (its {@code vision.image_res}). */
  public int imageResolution() {
    return imageRes;
  }

  /** A caption of {@code image} (a captioning model). */
  public Caption caption(ImageInput image) {
    return captionAll(List.of(image)).get(0);
  }

  /** A caption of each image, in order, {@link Builder#batchSize} per forward pass. */
  public List<Caption> captionAll(List<ImageInput> images) {
    require(Task.CAPTION, "caption");
    return batched(images, chunk -> {
      Tensor batch = EvalImages.batch(chunk, imageRes, maxPixels);
      return locked(() -> captioner.caption(batch));
    });
  }

  /** The answer to {@code question} about {@code image} (a VQA model). */
  public Answer answer(ImageInput image, String question) {
    return answerAll(List.of(new ImageText(image, question))).get(0);
  }

  /** The answer to each question, in order, {@link Builder#batchSize} per forward pass. */
  public List<Answer> answerAll(List<ImageText> questions) {
    require(Task.VQA, "answer");
    for (int i = 0; i < questions.size(); i++) requireText(questions.get(i).text(), "question", i);
    return batched(questions, chunk -> {
      Tensor images = EvalImages.batch(chunk.stream().map(ImageText::image).toList(), imageRes, maxPixels);
      TokenBatch tokens = answerer.questions(chunk.stream().map(ImageText::text).toList());
      return locked(() -> answerer.answer(images, tokens));
    });
  }

  /** {@code texts} ranked for {@code image}, best first (a retrieval model; the top k of them). */
  public List<Match> retrieve(ImageInput image, List<String> texts) {
    return rank(List.of(image), texts).textsByImage().get(0);
  }

  /** Every image ranked against every text and back (a retrieval model). */
  public Rankings rank(List<ImageInput> images, List<String> texts) {
    require(Task.RETRIEVAL, "rank");
    if (images.isEmpty()) throw new IllegalArgumentException("no images to rank");
    return ranked(images.size(), texts, (start, b) -> EvalImages.batch(images.subList(start, start + b), imageRes,
        maxPixels));
  }

  /** A caption of {@code clip} (a video-caption model). */
  public Caption caption(VideoInput clip) {
    return captionClips(List.of(clip)).get(0);
  }

  /** A caption of each clip, in order, {@link Builder#batchSize} per forward pass (the {@code ...All} of clips). */
  public List<Caption> captionClips(List<VideoInput> clips) {
    require(Task.VIDEO_CAPTION, "caption a clip");
    return batched(clips, chunk -> {
      Tensor batch = VideoInput.batch(chunk, frames, imageRes, maxPixels);
      return locked(() -> captioner.caption(batch));
    });
  }

  /**
   * The best answer of the list to {@code question} about {@code clip} (a video-qa model); its score is the
   * ranking's: log p(first token) - the answer's summed NLL.
   */
  public Answer answer(VideoInput clip, String question) {
    return answerClips(List.of(new VideoText(clip, question))).get(0);
  }

  /** The answer to each question, in order, {@link Builder#batchSize} per forward pass ({@code ...All} of clips). */
  public List<Answer> answerClips(List<VideoText> questions) {
    require(Task.VIDEO_QA, "answer about a clip");
    for (int i = 0; i < questions.size(); i++) requireText(questions.get(i).text(), "question", i);
    return batched(questions, chunk -> {
      Tensor clips = VideoInput.batch(chunk.stream().map(VideoText::clip).toList(), frames, imageRes, maxPixels);
      TokenBatch tokens = clipAnswerer.questions(chunk.stream().map(VideoText::text).toList());
      VqaHead.Ranking ranking = locked(() -> clipAnswerer.rank(clips, tokens));
      List<Answer> out = new ArrayList<>(chunk.size());
      for (int j = 0; j < chunk.size(); j++) {
        out.add(new Answer(clipAnswerer.answer(ranking.best(j)), ranking.scores()[j][0]));
      }
      return out;
    });
  }

  /**
   * {@code texts} ranked for {@code clip}, best first (a video-retrieval model; the top k of them, by ITM logit + ITC
   * similarity, the official video score).
   */
  public List<Match> retrieve(VideoInput clip, List<String> texts) {
    return rankClips(List.of(clip), texts).textsByImage().get(0);
  }

  /** Every clip ranked against every text and back (a video-retrieval model); the "images" of the result are clips. */
  public Rankings rankClips(List<VideoInput> clips, List<String> texts) {
    require(Task.VIDEO_RETRIEVAL, "rank clips");
    if (clips.isEmpty()) throw new IllegalArgumentException("no clips to rank");
    return ranked(clips.size(), texts, (start, b) -> VideoInput.batch(clips.subList(start, start + b), frames,
        imageRes, maxPixels));
  }

  /** Ranks {@code n} images or clips, {@code media(start, count)} a batch of them, against {@code texts}. */
  private Rankings ranked(int n, List<String> texts, BiFunction<Integer, Integer, Tensor> media) {
    requireOpen();
    if (texts.isEmpty()) throw new IllegalArgumentException("no texts to rank");
    for (int i = 0; i < texts.size(); i++) requireText(texts.get(i), "text", i);
    try (TensorScope _ = TensorScope.open()) {
      TokenBatch tokens = retriever.texts(texts);
      Tensor embeds = null;
      Tensor features = null;
      for (int start = 0; start < n; start += batchSize) {
        int b = Math.min(batchSize, n - start);
        try (TensorScope scope = TensorScope.open()) {
          Tensor batch = media.apply(start, b);
          Tensor[] part = locked(() -> {
            RetrievalHead.Images encoded = retriever.images(batch);
            return new Tensor[] {encoded.embeds(), encoded.features()};
          });
          if (embeds == null) {
            embeds = scope.keep(device.empty(n, part[0].size(1), part[0].size(2)));          // [N, Nv, H]
            features = scope.keep(device.empty(n, part[1].size(1)));                          // [N, E]
          }
          embeds.narrow(0, start, b).copy_(part[0]);
          features.narrow(0, start, b).copy_(part[1]);
        }
      }
      RetrievalHead.Images index = new RetrievalHead.Images(embeds, features);
      return locked(() -> retriever.rank(index, retriever.encodeTexts(tokens, batchSize)));
    }
  }

  /** The box {@code phrase} refers to in {@code image} (a grounding model). */
  public BoundingBox ground(ImageInput image, String phrase) {
    return groundAll(List.of(new ImageText(image, phrase))).get(0);
  }

  /** The box of each expression, in order, {@link Builder#batchSize} per forward pass. */
  public List<BoundingBox> groundAll(List<ImageText> phrases) {
    require(Task.GROUNDING, "ground");
    for (int i = 0; i < phrases.size(); i++) requireText(phrases.get(i).text(), "phrase", i);
    return batched(phrases, chunk -> {
      Grounder.Prepared prepared = grounder.prepare(chunk, maxPixels);
      return locked(() -> grounder.ground(prepared));
    });
  }

  /** Whether {@code image} entails {@code hypothesis}: entailment, neutral or contradiction (an SNLI-VE model). */
  public Judgement entail(ImageInput image, String hypothesis) {
    return entailAll(List.of(new ImageText(image, hypothesis))).get(0);
  }

  /** The verdict on each (premise image, hypothesis), in order, {@link Builder#batchSize} per forward pass. */
  public List<Judgement> entailAll(List<ImageText> hypotheses) {
    require(Task.SNLI_VE, "entail");
    for (int i = 0; i < hypotheses.size(); i++) requireText(hypotheses.get(i).text(), "hypothesis", i);
    return batched(hypotheses, chunk -> {
      Tensor images = EvalImages.batch(chunk.stream().map(ImageText::image).toList(), imageRes, maxPixels);
      TokenBatch tokens = judge.sentences(chunk.stream().map(ImageText::text).toList());
      return locked(() -> judge.judge(images, tokens));
    });
  }

  /** Whether {@code statement} is true of the pair (left, right): "True" or "False" (an NLVR2 model). */
  public Judgement verify(ImageInput left, ImageInput right, String statement) {
    return verifyAll(List.of(new ImagePairText(left, right, statement))).get(0);
  }

  /** The verdict on each (image pair, statement), in order, {@link Builder#batchSize} per forward pass. */
  public List<Judgement> verifyAll(List<ImagePairText> statements) {
    require(Task.NLVR2, "verify");
    for (int i = 0; i < statements.size(); i++) requireText(statements.get(i).text(), "statement", i);
    return batched(statements, chunk -> {
      List<ImageInput> images = new ArrayList<>();
      for (ImagePairText s : chunk) {
        images.add(s.left());
        images.add(s.right());
      }
      Tensor flat = EvalImages.batch(images, imageRes, maxPixels);                        // [2B, 3, R, R]
      Tensor pairs = flat.view(chunk.size(), 2, flat.size(1), flat.size(2), flat.size(3)); // [B, 2, 3, R, R]
      TokenBatch tokens = judge.sentences(chunk.stream().map(ImagePairText::text).toList());
      return locked(() -> judge.judge(pairs, tokens));
    });
  }

  /**
   * Frees the weights' native memory now; later calls fail. Waits for a forward pass in flight. Idempotent.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) return;
      closed = true;
      if (answerList != null) answerList.close();
      release(model);
      NativeHeap.trim();   // the freed pages leave the resident set too
    } finally {
      lock.unlock();
    }
  }

  /** One chunk of a batched request, prepared and run in a tensor scope of its own. */
  @FunctionalInterface
  private interface Chunk<I, O> {
    List<O> run(List<I> chunk);
  }

  private <I, O> List<O> batched(List<I> requests, Chunk<I, O> work) {
    requireOpen();
    List<O> out = new ArrayList<>(requests.size());
    for (int start = 0; start < requests.size(); start += batchSize) {
      try (TensorScope _ = TensorScope.open()) {
        out.addAll(work.run(requests.subList(start, Math.min(requests.size(), start + batchSize))));
      }
    }
    return out;
  }

  /** Runs a forward pass under the model's lock, in eval mode, without gradients, in the chosen precision. */
  private <T> T locked(Supplier<T> work) {
    lock.lock();
    try {
      requireOpen();
      try (NoGradGuard _ = new NoGradGuard(); Autocast _ = Autocast.on(device.type(), precision.torch())) {
        return work.get();
      }
    } finally {
      lock.unlock();
    }
  }

  private void requireOpen() {
    if (closed) throw new IllegalStateException("the model of " + checkpoint + " is closed");
  }

  private void require(Task needed, String method) {
    if (task != needed) {
      throw new IllegalArgumentException(method + " needs a " + needed + " model; " + checkpoint + " is loaded for "
          + task);
    }
  }

  private static void requireText(String text, String what, int index) {
    if (text == null || text.isBlank()) throw new IllegalArgumentException(what + " " + index + " is empty");
  }

  /**
   * Empties every parameter and buffer in place (every handle on them, the heads' included, sees the empty storage,
   * so the memory is returned now rather than when the garbage collector finds the last handle), then the module.
   */
  private static void release(MPlug model) {
    try (NoGradGuard _ = new NoGradGuard(); TensorScope _ = TensorScope.open()) {
      for (Tensor p : MPlug.namedParameters(model).values()) p.set_(emptyLike(p).storage());
      var buffers = model.buffers();
      for (long i = 0; i < buffers.size(); i++) buffers.get(i).set_(emptyLike(buffers.get(i)).storage());
    }
    model.close();
  }

  /** An empty tensor on the device and of the dtype of {@code t} (a storage {@code t} can be set to). */
  private static Tensor emptyLike(Tensor t) {
    return torch.empty(new long[] {0}, t.options(), new MemoryFormatOptional());
  }
}
