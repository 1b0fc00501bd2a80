/**
 * Profiling: named ranges of work for Nsight (NVTX) and for a Chrome/Perfetto trace, and the peak memory of a step.
 *
 * <ul>
 *   <li>{@link dev.mplug.profile.Range}: {@code try (Range r = Range.open("backward")) { ... }}, free while nothing
 *       listens.
 *   <li>{@link dev.mplug.profile.Profiler}: who listens, NVTX when an Nsight tool is attached
 *       ({@link dev.mplug.profile.Nvtx}) and a {@link dev.mplug.profile.ChromeTrace} while {@code --profile FILE}
 *       records.
 *   <li>{@link dev.mplug.profile.PeakResidentSet}: the peak resident set of the process, resettable per step.
 * </ul>
 *
 * <p>Depends on the JDK and Jackson only, so every layer (data loader, model, losses, trainer) can open ranges.
 */
package dev.mplug.profile;
