package dev.mplug.data.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mplug.data.BadSampleException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VideoFramesTest {
  /** Frame k is one solid colour: red = 20 k, green = 255 - 20 k, blue = 100. */
  static int[] colour(int k) {
    return new int[] {20 * k, 255 - 20 * k, 100};
  }

  static Path writeClip(Path dir, int frames) {
    List<Mat> list = new ArrayList<>();
    for (int k = 0; k < frames; k++) {
      int[] c = colour(k);
      list.add(new Mat(48, 64, opencv_core.CV_8UC3, new Scalar(c[0], c[1], c[2], 0)));
    }
    Path file = dir.resolve("clip.avi");
    VideoFrames.writeMjpeg(file, list, 10);
    list.forEach(Mat::close);
    return file;
  }

  static void assertColour(int[] expected, Mat frame, String what) {
    var p = frame.ptr(24, 32);
    int[] got = {p.get(0) & 0xFF, p.get(1) & 0xFF, p.get(2) & 0xFF};
    for (int c = 0; c < 3; c++) {
      assertTrue(Math.abs(got[c] - expected[c]) <= 4, what + ": expected " + Arrays.toString(expected)
          + " got " + Arrays.toString(got));
    }
  }

  @Test
  void uniformIndices() {
    assertArrayEquals(new long[] {0, 2, 4, 6, 8}, VideoFrames.uniformIndices(10, 5));
    assertArrayEquals(new long[] {0, 3, 7, 11, 15, 18, 22, 26}, VideoFrames.uniformIndices(30, 8));
    assertArrayEquals(new long[] {0, 0, 1, 1}, VideoFrames.uniformIndices(2, 4));
  }

  @Test
  void samplesTheFramesOfAWrittenClipInRgb(@TempDir Path dir) {
    Path clip = writeClip(dir, 10);
    List<Mat> frames = VideoFrames.sample(clip, 5);
    assertEquals(5, frames.size());
    for (int i = 0; i < 5; i++) {
      Mat f = frames.get(i);
      assertEquals(64, f.cols());
      assertEquals(48, f.rows());
      assertEquals(opencv_core.CV_8UC3, f.type());
      assertColour(colour(2 * i), f, "sample " + i + " = frame " + 2 * i);
      f.close();
    }
    // more samples than frames: frames repeat
    List<Mat> many = VideoFrames.sample(clip, 20);
    assertEquals(20, many.size());
    assertColour(colour(0), many.get(1), "sample 1 of 20 = frame 0");
    assertColour(colour(9), many.get(19), "sample 19 of 20 = frame 9");
    many.forEach(Mat::close);
  }

  @Test
  void videosInMemoryAreSampledLikeFilesAndNamedByTheirSource(@TempDir Path dir) throws IOException {
    byte[] bytes = Files.readAllBytes(writeClip(dir, 10));
    List<Mat> frames = VideoFrames.sample(bytes, "shard-00000#3:clip.avi", 5);
    assertEquals(5, frames.size());
    for (int i = 0; i < 5; i++) assertColour(colour(2 * i), frames.get(i), "sample " + i + " = frame " + 2 * i);
    frames.forEach(Mat::close);

    BadSampleException e = assertThrows(BadSampleException.class, () -> VideoFrames.sample(new byte[0], "r#1", 4));
    assertEquals("r#1", e.source());
    e = assertThrows(BadSampleException.class, () -> VideoFrames.sample("not a video".getBytes(StandardCharsets.US_ASCII), "r#2", 4));
    assertEquals("r#2", e.source());
    assertTrue(e.reason().contains("cannot open"), e.reason());
  }

  @Test
  void missingAndUnreadableVideosAreBadSamples(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("none.avi");
    BadSampleException e = assertThrows(BadSampleException.class, () -> VideoFrames.sample(missing, 4));
    assertEquals(missing.toString(), e.source());
    assertTrue(e.reason().contains("not found"), e.reason());

    Path text = dir.resolve("notes.avi");
    Files.writeString(text, "this is not a video\n");
    e = assertThrows(BadSampleException.class, () -> VideoFrames.sample(text, 4));
    assertTrue(e.reason().contains("cannot open"), e.reason());

    assertThrows(IllegalArgumentException.class, () -> VideoFrames.sample(missing, 0));
  }
}
