package dev.mplug.data.loader;

/** The run stops: more bad samples than the configured fraction allows, or no usable replacement could be found. */
public final class TooManyBadSamplesException extends RuntimeException {
  public TooManyBadSamplesException(String message) {
    super(message);
  }
}
