/**
 * {@code mplug serve}: an {@link dev.mplug.api.MPlugModel} behind a small HTTP JSON service on the JDK's built-in
 * server ({@link dev.mplug.serve.InferenceServer}, limits in {@link dev.mplug.serve.ServerConfig}).
 */
package dev.mplug.serve;
