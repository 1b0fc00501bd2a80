package dev.mplug.data.loader;

import dev.mplug.data.dataset.AnnotationDataset;
import dev.mplug.data.dataset.MediaRef;
import dev.mplug.data.dataset.Sample;
import dev.mplug.data.proto.Media;
import dev.mplug.data.proto.Record;
import dev.mplug.data.shard.RecordCodec;
import dev.mplug.data.shard.ShardSet;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a loader takes its samples from: annotation files with media on disk, or record shards. {@link #load} throws
 * {@link dev.mplug.data.BadSampleException} for an unusable entry or record. Implementations are thread-safe.
 */
public interface SampleStore {
  int size();

  /** Sample {@code index} with references to its media (media are read later, by the per-sample function). */
  LoadedSample load(int index);

  /** Where sample {@code index} came from. */
  String source(int index);

  /** Samples of an annotation file; media are files under the dataset root. */
  static SampleStore of(AnnotationDataset<? extends Sample> dataset) {
    return new SampleStore() {
      @Override
      public int size() {
        return dataset.size();
      }

      @Override
      public LoadedSample load(int index) {
        Sample s = dataset.get(index);
        List<MediaRef> media = new ArrayList<>(s.media().size());
        for (String name : s.media()) media.add(new MediaRef.File(name, dataset.resolve(name)));
        return new LoadedSample(index, s, media, dataset.source(index));
      }

      @Override
      public String source(int index) {
        return dataset.source(index);
      }
    };
  }

  /** Samples of record shards; media are the bytes stored in the records. */
  static SampleStore of(ShardSet shards) {
    return new SampleStore() {
      @Override
      public int size() {
        return shards.size();
      }

      @Override
      public LoadedSample load(int index) {
        String source = shards.source(index);
        Record r = shards.get(index);
        Sample s = RecordCodec.decode(r, source);
        List<MediaRef> media = new ArrayList<>(r.getMediaCount());
        for (Media m : r.getMediaList()) {
          media.add(new MediaRef.Blob(m.getName(), m.getData().toByteArray(), source + ":" + m.getName()));
        }
        return new LoadedSample(index, s, media, source);
      }

      @Override
      public String source(int index) {
        return shards.source(index);
      }
    };
  }
}
