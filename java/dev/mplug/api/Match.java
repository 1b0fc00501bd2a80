package dev.mplug.api;

/**
 * One candidate of a retrieval ranking, best first in its list.
 *
 * @param index the candidate's position in the list that was given (a text of {@code texts}, or an image or clip)
 * @param similarity the ITC cosine similarity of query and candidate, which picked the candidate among the top k
 * @param score the ITM "match" logit (plus the similarity for clips, the official text-video score), by which the top
 *     k are ranked
 */
public record Match(int index, double similarity, double score) {}
