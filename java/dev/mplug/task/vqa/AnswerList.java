package dev.mplug.task.vqa;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mplug.data.text.BertTokenizer;
import dev.mplug.data.text.Padding;
import dev.mplug.data.text.TokenBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The candidate answers of answer-list ranking (the official {@code answer_list.json}: a JSON list of strings; or the
 * official video QA {@code train_ans2label.json}, an object whose keys in file order are the answers), each
 * tokenised as a training answer, {@code [CLS] answer [SEP] [SEP]} (the answer + "[SEP]", as the official evaluation
 * does), padded to the longest. Owns its two tensors until {@link #close}.
 */
public final class AnswerList implements AutoCloseable {
  private final List<String> answers;
  private final Tensor ids;   // [A, Ta]
  private final Tensor mask;  // [A, Ta]

  public AnswerList(List<String> answers, BertTokenizer tokenizer, int maxTokens) {
    if (answers.isEmpty()) throw new IllegalArgumentException("the answer list is empty");
    this.answers = List.copyOf(answers);
    TokenBatch t = tokenizer.encodeBatch(answers.stream().map(VqaData::withEos).toList(), maxTokens, Padding.LONGEST);
    this.ids = t.idsTensor();
    this.mask = t.maskTensor();
    ids.retainReference();
    mask.retainReference();
  }

  /** Reads {@code file} (a JSON list of strings); a bad file is one line naming it. */
  public static AnswerList read(Path file, BertTokenizer tokenizer, int maxTokens) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("vqa.answer_list: " + file + " is not valid JSON (line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("vqa.answer_list: cannot read " + file + " (" + e.getMessage() + ")", e);
    }
    if (root != null && root.isObject() && !root.isEmpty()) {   // {"answer": label, ...}: the answers are its keys
      List<String> keys = new ArrayList<>(root.size());
      root.fieldNames().forEachRemaining(keys::add);
      return new AnswerList(keys, tokenizer, maxTokens);
    }
    if (root == null || !root.isArray() || root.isEmpty()) {
      throw new IllegalArgumentException("vqa.answer_list: " + file + " must be a non-empty JSON list of strings (or "
          + "an object whose keys are the answers)");
    }
    List<String> answers = new ArrayList<>(root.size());
    for (JsonNode a : root) {
      if (!a.isTextual()) {
        throw new IllegalArgumentException("vqa.answer_list: " + file + " entry " + answers.size()
            + " is not a string: " + a);
      }
      answers.add(a.asText());
    }
    return new AnswerList(answers, tokenizer, maxTokens);
  }

  /** Checks that the file exists (before any compute). */
  public static void check(Path file) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("vqa.answer_list: " + file + " does not exist");
  }

  public int size() {
    return answers.size();
  }

  public String answer(int index) {
    return answers.get(index);
  }

  public Tensor ids() {
    return ids;
  }

  public Tensor mask() {
    return mask;
  }

  @Override
  public void close() {
    ids.releaseReference();
    mask.releaseReference();
  }
}
