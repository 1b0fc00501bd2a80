package dev.mplug.bench;

import dev.mplug.data.image.ImageBatch;
import dev.mplug.data.image.ImageTransform;
import dev.mplug.data.image.Images;
import dev.mplug.data.image.Transforms;
import dev.mplug.torch.TensorScope;
import dev.mplug.torch.TorchRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.RNG;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Images per second on one core for the pretraining input pipeline: decode a 640 x 480 JPEG, then
 * RandomResizedCrop + flip + RandAugment(2, 7) to {@code res} px ({@code decodeAndPretrainAugment}, the headline
 * figure); decode alone for reference; and the CLIP-normalised batch tensor of 8 augmented images
 * ({@code batchOf8ToTensor}, ops = batches).
 *
 * <p>OpenCV's own thread pool is disabled for {@code threads = 1} (a data loader runs one image per worker thread);
 * libtorch gets the same thread count. Inputs: 8 photo-like JPEGs (smooth colour fields plus grain, quality 90)
 * made in setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ImagePipelineBenchmark {
  @Param({"256"})
  public int res;

  @Param({"1"})
  public int threads;

  private final List<byte[]> jpegs = new ArrayList<>();
  private final List<Mat> augmented = new ArrayList<>();
  private ImageTransform pretrain;
  private SplittableRandom rng;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    Loader.load(opencv_core.class);
    opencv_core.setNumThreads(threads == 1 ? 0 : threads); // 0: OpenCV runs everything on the calling thread
    TorchRuntime.setThreads(threads);
    pretrain = Transforms.pretrain(res);
    rng = new SplittableRandom(0);
    try (RNG noise = new RNG(12345)) {
      for (int i = 0; i < 8; i++) {
        try (Mat coarse = new Mat(12, 16, opencv_core.CV_8UC3);
            Mat grain = new Mat(480, 640, opencv_core.CV_8UC3);
            Mat photo = new Mat();
            Mat lo = new Mat(3, 1, opencv_core.CV_64FC1, new Scalar(0));
            Mat hi = new Mat(3, 1, opencv_core.CV_64FC1, new Scalar(256));
            Mat grainHi = new Mat(3, 1, opencv_core.CV_64FC1, new Scalar(16));
            Size size = new Size(640, 480)) {
          noise._fill(coarse, RNG.UNIFORM, lo, hi);
          opencv_imgproc.resize(coarse, photo, size, 0, 0, opencv_imgproc.INTER_CUBIC);
          noise._fill(grain, RNG.UNIFORM, lo, grainHi);
          opencv_core.add(photo, grain, photo);
          jpegs.add(Images.toJpeg(photo, 90));
        }
      }
    }
    for (byte[] j : jpegs) {
      try (Mat rgb = Images.decode(j, "bench")) {
        augmented.add(pretrain.apply(rgb, rng));
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    augmented.forEach(Mat::close);
  }

  @Benchmark
  public int decodeAndPretrainAugment() {
    byte[] jpeg = jpegs.get(next++ & 7);
    try (Mat rgb = Images.decode(jpeg, "bench"); Mat out = pretrain.apply(rgb, rng)) {
      return out.cols();
    }
  }

  @Benchmark
  public int decodeOnly() {
    try (Mat rgb = Images.decode(jpegs.get(next++ & 7), "bench")) {
      return rgb.cols();
    }
  }

  @Benchmark
  public float batchOf8ToTensor() {
    TensorScope scope = TensorScope.open(); // frees the batch tensor each call
    try {
      Tensor t = ImageBatch.toTensor(augmented); // [8, 3, res, res]
      return t.data_ptr_float().get();
    } finally {
      scope.close();
    }
  }
}
