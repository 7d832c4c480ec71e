// Record metadata: the fields Decree 30/2020/ND-CP (Appendix VI) asks of an
// official electronic document, read from a JSON sidecar and validated.
//
// A sidecar is one JSON object per document. Keys are English; the Vietnamese
// names are those of the decree:
//
//   organ_id        "Mã định danh cơ quan"      text, <= 13      e.g. "000.00.12.H17"
//   file_notation   "Mã hồ sơ"                  text, <= 50
//   code_number     "Số của văn bản"   REQUIRED text, <= 11      e.g. "6587" (digits, may start with 0)
//   code_notation   "Ký hiệu văn bản"  REQUIRED text, <= 50      e.g. "UBND-CNXD"
//   issued_date     "Ngày ban hành"    REQUIRED "YYYY-MM-DD"
//   type_name       "Tên loại văn bản"          text, <= 100     e.g. "Công văn"
//   organ_name      "Tên cơ quan ban hành" REQUIRED text, <= 200
//   subject         "Trích yếu nội dung" REQUIRED text, <= 1000
//   language        "Ngôn ngữ"                  text, <= 50      default "vi"
//   page_amount     "Số trang"                  integer 1..100000
//   signer          "Người ký"                  {"position": text <= 100, "full_name": text <= 100}
//   recipients      "Nơi nhận"                  array of text <= 200, at most 500
//   priority        "Mức độ khẩn"               "normal" | "urgent" (Khẩn) | "very-urgent" (Thượng khẩn)
//                                               | "flash" (Hỏa tốc); default "normal"
//   secrecy         "Độ mật"                    "normal" | "confidential" (Mật) | "secret" (Tối mật)
//                                               | "top-secret" (Tuyệt mật); default "normal"
//   due_date        "Hạn xử lý"                 "YYYY-MM-DD"
//   retention       "Thời hạn bảo quản"         "permanent" (Vĩnh viễn) or a number of years 1..200;
//                                               default "permanent"
//
// Lengths count Unicode characters (code points), not bytes; text must be
// valid UTF-8 without control characters. Unknown and repeated keys are
// refused, so a misspelt field is never silently dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve::package {

struct RecordMetadata {
  std::string organ_id;
  std::string file_notation;
  std::string code_number;
  std::string code_notation;
  std::string issued_date;  // YYYY-MM-DD
  std::string type_name;
  std::string organ_name;
  std::string subject;
  std::string language = "vi";
  std::optional<std::uint32_t> page_amount;
  std::string signer_position;
  std::string signer_full_name;
  std::vector<std::string> recipients;
  std::string priority = "normal";
  std::string secrecy = "normal";
  std::string due_date;  // YYYY-MM-DD or empty
  // Retention: 0 means permanent, else a number of years from ingest.
  std::uint32_t retention_years = 0;

  // "6587/UBND-CNXD": how the document is cited.
  std::string Citation() const;
};

// Parses and validates a sidecar. kInvalidArgument names every problem found,
// each with its key's line ("code_number: required; issued_date: '2017-13-01'
// is not a date YYYY-MM-DD (line 4)"), a key given twice among them; a syntax
// error names its line and column and what was expected there.
Result<RecordMetadata> ParseRecordMetadata(ByteView json);

// The canonical JSON object (as stored in the manifest), and back. The reader
// validates as ParseRecordMetadata does.
std::string RecordMetadataToJson(const RecordMetadata& metadata);

}  // namespace preserve::package
