package dev.mplug.api;

import dev.mplug.data.image.Images;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.TokenBatch;
import dev.mplug.data.text.Vocabulary;
import dev.mplug.model.MPlug;
import dev.mplug.model.MPlugConfig;
import dev.mplug.model.Part;
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
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A fine-tuned mPLUG answering from plain Java: captions, VQA answers, retrieval rankings, grounding boxes, visual
 * entailment and NLVR2 verdicts for images given as files, bytes or {@link java.awt.image.BufferedImage}s. The answers
 * are those of {@code mplug evaluate}: the same image and text preparation, the task's own head and decoding (beam
 * search with the key/value cache, greedy box tokens, ITC top-k re-ranked by ITM, the classifier's arg-max).
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
 * without a decoder is retrieval; VQA, grounding, SNLI-VE and NLVR2 build the same parts, so for them (and for a
 * pretrained checkpoint, which has every part) the task must be given, unless a fine-tuning folder records it. The tokenizer's {@code vocab.txt} is {@link Builder#vocab}, by default the one
 * in the checkpoint folder or beside the checkpoint file.
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
  private final Captioner captioner;
  private final Answerer answerer;
  private final Retriever retriever;
  private final Grounder grounder;
  private final Judge judge;
  private final int imageRes;
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
    private final Path checkpoint;
    private Task task;
    private Path vocab;
    private String model;
    private Integer beamSize;
    private Integer maxLength;
    private Integer topK;
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

    /** Retrieval: candidates re-ranked by ITM per query (default 256, the official COCO k). */
    public Builder topK(int k) {
      if (k < 1) throw new IllegalArgumentException("top k must be >= 1, got " + k);
      this.topK = k;
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
    this.task = b.task != null ? b.task : taskOf(b.checkpoint, config);
    this.precision = b.precision;
    this.device = b.device;
    this.batchSize = b.batchSize;
    this.maxPixels = b.maxPixels;
    FinetuneConfig settings = FinetuneConfig.defaults(task.label(), overrides(b, task));
    DownstreamTask<?> downstream = Tasks.of(settings);
    Path vocabFile = vocabFile(b);
    BertTokenizer tokenizer = BertTokenizer.load(vocabFile);
    Vocabulary vocab = tokenizer.vocabulary();
    this.model = TrainedModel.load(b.checkpoint, config, downstream, device).model();
    this.imageRes = model.config().vision().imageRes();
    FinetuneConfig.Data data = settings.data();
    try {
      this.captioner = task != Task.CAPTION ? null
          : new Captioner(((CaptionTask) downstream).head(model, tokenizer), tokenizer);
      this.answerer = task != Task.VQA ? null
          : new Answerer(new VqaHead(model, vocab.padId()), tokenizer, ((VqaTask) downstream).settings()
              .generation(model.config().generation(), vocab.clsId(), vocab.sepId()), data.maxWords(),
              data.maxTokens());
      this.retriever = task != Task.RETRIEVAL ? null
          : new Retriever(new RetrievalHead(model), tokenizer, ((RetrievalTask) downstream).ranking(), data.maxWords(),
              data.maxTokens());
      this.grounder = task != Task.GROUNDING ? null
          : new Grounder(new GroundingHead(model, BoxTokens.of(vocab), GroundingHead.Weights.OFFICIAL), tokenizer,
              data.maxTokens());
      this.judge = task != Task.SNLI_VE && task != Task.NLVR2 ? null
          : new Judge(((ClassificationTask) downstream).head(model), tokenizer, data.maxWords(), data.maxTokens());
    } catch (RuntimeException e) {
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
    if (texts.isEmpty()) throw new IllegalArgumentException("no texts to rank");
    for (int i = 0; i < texts.size(); i++) requireText(texts.get(i), "text", i);
    try (TensorScope _ = TensorScope.open()) {
      TokenBatch tokens = retriever.texts(texts);
      Tensor embeds = null;
      Tensor features = null;
      int n = images.size();
      for (int start = 0; start < n; start += batchSize) {
        int b = Math.min(batchSize, n - start);
        try (TensorScope scope = TensorScope.open()) {
          Tensor batch = EvalImages.batch(images.subList(start, start + b), imageRes, maxPixels);
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

  /**
   * The task a fine-tuned checkpoint folder records; otherwise the task whose parts the checkpoint's config builds,
   * where only one task builds them.
   */
  private static Task taskOf(Path checkpoint, MPlugConfig given) {
    Optional<String> stored = TrainedModel.storedTask(checkpoint);
    if (stored.isPresent()) return Task.parse(stored.get());
    MPlugConfig c = given != null ? given : TrainedModel.storedConfig(checkpoint);
    Set<Part> parts = c.parts();
    boolean decoder = parts.contains(Part.DECODER);
    boolean encoder = parts.contains(Part.TEXT_ENCODER);
    if (decoder && !encoder) return Task.CAPTION;
    if (!decoder && parts.contains(Part.ITC_ITM_HEADS)) return Task.RETRIEVAL;
    throw new IllegalArgumentException("checkpoint " + checkpoint + " builds the parts " + parts.stream().sorted()
        .toList() + ", which serve more than one task: give the task (vqa, caption, retrieval, grounding, snli-ve or nlvr2)");
  }

  /** The task options of the builder as fine-tuning config overrides (validated by the task, as a config is). */
  private static List<String> overrides(Builder b, Task task) {
    List<String> out = new ArrayList<>();
    switch (task) {
      case VQA -> {
        if (b.beamSize != null) out.add("vqa.beam_size=" + b.beamSize);
        if (b.maxLength != null) out.add("vqa.max_answer_length=" + b.maxLength);
      }
      case CAPTION -> {
        if (b.beamSize != null) out.add("caption.beam_size=" + b.beamSize);
        if (b.maxLength != null) {
          out.add("caption.max_length=" + b.maxLength);
          out.add("caption.min_length=" + Math.min(8, b.maxLength));
        }
      }
      case RETRIEVAL -> {
        if (b.topK != null) out.add("retrieval.k=" + b.topK);
      }
      case GROUNDING, SNLI_VE, NLVR2 -> { }
    }
    if ((b.beamSize != null || b.maxLength != null) && task != Task.VQA && task != Task.CAPTION) {
      throw new IllegalArgumentException("beam size and max length are for vqa and caption models, not " + task);
    }
    if (b.topK != null && task != Task.RETRIEVAL) {
      throw new IllegalArgumentException("top k is for retrieval models, not " + task);
    }
    return out;
  }

  private static Path vocabFile(Builder b) {
    Path dir = Files.isDirectory(b.checkpoint) ? b.checkpoint : b.checkpoint.toAbsolutePath().getParent();
    Path vocab = b.vocab != null ? b.vocab : dir.resolve("vocab.txt");
    if (!Files.isRegularFile(vocab)) {
      throw new IllegalArgumentException("vocab " + vocab + " does not exist (the model's BERT vocab.txt; give it "
          + "with vocab(...) / --vocab)");
    }
    return vocab;
  }
}
