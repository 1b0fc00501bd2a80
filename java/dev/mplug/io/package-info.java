/**
 * Weights in and out, without Python.
 *
 * <ul>
 *   <li>{@link dev.mplug.io.TorchCheckpoint}: torch.save files (zip and legacy formats) through a pickle reader that
 *       accepts only the globals a state dict needs ({@link dev.mplug.io.RestrictedUnpickler},
 *       {@link dev.mplug.io.TorchPickle}), so a checkpoint never runs code.
 *   <li>{@link dev.mplug.io.SafeTensors}: the safetensors reader (header validated against the file) and atomic writer.
 *   <li>{@link dev.mplug.io.StateDict}: named tensors as read; {@link dev.mplug.io.CheckpointFiles} picks the format.
 *   <li>{@link dev.mplug.io.OfficialWeights}: official mPLUG names -> this project's parameters;
 *       {@link dev.mplug.io.ClipWeights} and {@link dev.mplug.io.BertWeights}: initialisation from OpenAI CLIP and
 *       Hugging Face BERT. All three report every key in a {@link dev.mplug.io.LoadReport} (loaded, ignored by a
 *       {@link dev.mplug.io.Rule}, missing, unexpected, left fresh) and check everything before copying anything.
 * </ul>
 */
package dev.mplug.io;
