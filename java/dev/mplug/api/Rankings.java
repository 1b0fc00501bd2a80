package dev.mplug.api;

import java.util.List;

/**
 * Every image ranked against every text and back, as the official retrieval inference: ITC similarity picks each
 * query's top k candidates, the ITM head re-ranks them; candidates outside the top k are not listed.
 *
 * @param textsByImage per image (in the order given) its best texts, best first
 * @param imagesByText per text its best images, best first
 */
public record Rankings(List<List<Match>> textsByImage, List<List<Match>> imagesByText) {
  public Rankings {
    textsByImage = textsByImage.stream().map(List::copyOf).toList();
    imagesByText = imagesByText.stream().map(List::copyOf).toList();
  }
}
