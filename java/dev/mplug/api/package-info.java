/**
 * The plain-Java inference API of mplug-java: load a fine-tuned mPLUG and ask it about images and video clips, with no
 * tensor, JNI or JavaCPP type in sight. This package (and {@code dev.mplug.serve}, the HTTP service over it) is the
 * supported public surface for applications; the other packages are the implementation and may change.
 *
 * <pre>{@code
 * import dev.mplug.api.*;
 * import java.nio.file.Path;
 * import java.util.List;
 *
 * public class Ask {
 *   public static void main(String[] args) {
 *     // args: a VQA checkpoint (e.g. runs/demo-vqa/checkpoints/step-000000300), its vocab.txt, an image, a question
 *     try (MPlugModel vqa = MPlugModel.builder(Path.of(args[0])).task(Task.VQA).vocab(Path.of(args[1])).build()) {
 *       Answer a = vqa.answer(ImageInput.of(Path.of(args[2])), args[3]);
 *       System.out.println(a.text() + " (" + a.score() + ")");
 *       List<Answer> both = vqa.answerAll(List.of(new ImageText(ImageInput.of(Path.of(args[2])), "how many shapes?"),
 *           new ImageText(ImageInput.of(Path.of(args[2])), "what color is the shape?")));
 *       both.forEach(b -> System.out.println(b.text()));
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>{@link dev.mplug.api.MPlugModel} says which checkpoints load, how the task is found, how clips
 * ({@link dev.mplug.api.VideoInput}) are read, how batching, threads and memory behave; the records
 * ({@link dev.mplug.api.Caption}, {@link dev.mplug.api.Answer}, {@link dev.mplug.api.Match},
 * {@link dev.mplug.api.Rankings}, {@link dev.mplug.api.BoundingBox}, {@link dev.mplug.api.Judgement}) carry the
 * results.
 */
package dev.mplug.api;
