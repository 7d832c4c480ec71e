#include "words.h"

#include <map>

namespace preserve::web {

std::string_view RoleLabel(const Page& page, archive::Role role) {
  switch (role) {
    case archive::Role::kOfficer: return page.T("Records officer", "Văn thư / lưu trữ viên");
    case archive::Role::kAuditor: return page.T("Auditor", "Thanh tra / kiểm toán");
    case archive::Role::kAdmin: return page.T("Administrator", "Quản trị viên");
  }
  return "";
}

std::string_view StateLabel(const Page& page, archive::PackageState state) {
  switch (state) {
    case archive::PackageState::kQueued: return page.T("Awaiting its time-stamp", "Đang chờ gắn dấu thời gian");
    case archive::PackageState::kSealed: return page.T("Sealed with evidence", "Đã có bằng chứng lưu trữ");
    case archive::PackageState::kDeleted: return page.T("Deleted (record kept)", "Đã xóa (giữ hồ sơ)");
  }
  return "";
}

std::string_view VerdictLabel(const Page& page, Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return page.T("Valid", "Hợp lệ");
    case Verdict::kInvalid: return page.T("Not valid", "Không hợp lệ");
    case Verdict::kIndeterminate: return page.T("Not determined", "Chưa xác định");
  }
  return "";
}

std::string_view VerdictClass(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return "ok";
    case Verdict::kInvalid: return "error";
    case Verdict::kIndeterminate: return "warn";
  }
  return "warn";
}

Explanation ExplainRefusal(const Page& page, std::string_view category) {
  struct Both {
    const char* what_en;
    const char* what_vi;
    const char* next_en;
    const char* next_vi;
  };
  static const std::map<std::string_view, Both> kExplanations = {
      {"NOT_SIGNED",
       {"The file carries no digital signature.", "Tệp không có chữ ký số.",
        "Have the document signed digitally by the issuing agency, then hand it in again.",
        "Đề nghị cơ quan ban hành ký số văn bản rồi nộp lại."}},
      {"FORMAT_FAILURE",
       {"The file is not a signed document in a format the archive reads, or it is damaged.",
        "Tệp không phải văn bản ký số ở định dạng hệ thống đọc được, hoặc đã bị hỏng.",
        "Check that you chose the right file (.p7s, .p7m, signed .pdf, .asice, .asics); ask the sender for a fresh copy.",
        "Kiểm tra đã chọn đúng tệp (.p7s, .p7m, .pdf đã ký, .asice, .asics); đề nghị nơi gửi cung cấp lại bản khác."}},
      {"HASH_FAILURE",
       {"The document was changed after it was signed: it does not match its signature.",
        "Văn bản đã bị thay đổi sau khi ký: nội dung không khớp với chữ ký.",
        "Do not archive this copy. Ask the issuing agency for the original signed document.",
        "Không lưu bản này. Đề nghị cơ quan ban hành gửi lại bản gốc đã ký."}},
      {"SIG_CRYPTO_FAILURE",
       {"The signature does not verify: it was not made by the key of the certificate it names.",
        "Chữ ký không kiểm tra được: không được tạo bởi khóa của chứng thư số ghi trong chữ ký.",
        "Ask the issuing agency for the original signed document.", "Đề nghị cơ quan ban hành gửi lại bản gốc đã ký."}},
      {"SIGNED_DATA_NOT_FOUND",
       {"The signature is detached and the signed document was not handed in with it.",
        "Chữ ký tách rời nhưng không nộp kèm văn bản được ký.",
        "Hand in the document together with its signature file.", "Nộp văn bản cùng với tệp chữ ký của nó."}},
      {"NO_SIGNING_CERTIFICATE_FOUND",
       {"The signer's certificate is not in the signature.", "Chữ ký không kèm chứng thư số của người ký.",
        "Ask the issuing agency to sign again with its certificate included.",
        "Đề nghị cơ quan ban hành ký lại, có kèm chứng thư số."}},
      {"NO_CERTIFICATE_CHAIN_FOUND",
       {"The signer's certificate was not issued by a certification authority this archive trusts.",
        "Chứng thư số của người ký không do tổ chức chứng thực mà kho lưu trữ tin cậy cấp.",
        "Ask the administrator whether that authority should be added to the trust list.",
        "Hỏi quản trị viên xem có cần bổ sung tổ chức chứng thực đó vào danh sách tin cậy không."}},
      {"CERTIFICATE_CHAIN_GENERAL_FAILURE",
       {"The signer's certificate chain could not be checked.", "Không kiểm tra được chuỗi chứng thư số của người ký.",
        "Ask the administrator to look at the trust list and intermediate certificates.",
        "Đề nghị quản trị viên kiểm tra danh sách tin cậy và các chứng thư trung gian."}},
      {"CHAIN_CONSTRAINTS_FAILURE",
       {"The signer's certificate may not be used for signing documents.",
        "Chứng thư số của người ký không được phép dùng để ký văn bản.",
        "Ask the issuing agency to sign with a signing certificate.",
        "Đề nghị cơ quan ban hành ký bằng chứng thư số dùng cho chữ ký."}},
      {"CRYPTO_CONSTRAINTS_FAILURE",
       {"The signature uses an algorithm or key size the archive's policy no longer accepts.",
        "Chữ ký dùng thuật toán hoặc độ dài khóa mà chính sách của kho không còn chấp nhận.",
        "Ask the issuing agency to sign again with current algorithms.",
        "Đề nghị cơ quan ban hành ký lại bằng thuật toán hiện hành."}},
      {"REVOKED",
       {"The signer's certificate was revoked before the signature was made.",
        "Chứng thư số của người ký đã bị thu hồi trước thời điểm ký.",
        "Do not archive it as authentic; tell the issuing agency.",
        "Không lưu như văn bản xác thực; báo lại cho cơ quan ban hành."}},
      {"REVOKED_NO_POE",
       {"The signer's certificate is revoked and nothing proves the signature was made before that.",
        "Chứng thư số của người ký đã bị thu hồi và không có bằng chứng chữ ký được tạo trước đó.",
        "Ask the issuing agency for a copy signed with a valid certificate.",
        "Đề nghị cơ quan ban hành gửi bản ký bằng chứng thư còn hiệu lực."}},
      {"REVOKED_CA_NO_POE",
       {"A certificate of the signer's certification authority is revoked.",
        "Chứng thư của tổ chức chứng thực cấp cho người ký đã bị thu hồi.",
        "Tell the administrator; ask the issuing agency for a new signature.",
        "Báo quản trị viên; đề nghị cơ quan ban hành ký lại."}},
      {"EXPIRED",
       {"The signer's certificate had expired when the signature was checked, with no earlier proof of the signature.",
        "Chứng thư số của người ký đã hết hạn khi kiểm tra, không có bằng chứng chữ ký được tạo trước đó.",
        "Ask the issuing agency to sign again with a valid certificate.",
        "Đề nghị cơ quan ban hành ký lại bằng chứng thư còn hiệu lực."}},
      {"NOT_YET_VALID",
       {"The signer's certificate was not yet valid when the document was signed.",
        "Chứng thư số của người ký chưa có hiệu lực tại thời điểm ký.",
        "Tell the issuing agency; check the clock of the signing computer.",
        "Báo cơ quan ban hành; kiểm tra đồng hồ của máy ký."}},
      {"TRY_LATER",
       {"The certificate's revocation status could not be obtained now (the CRL or OCSP service did not answer).",
        "Hiện chưa lấy được tình trạng thu hồi của chứng thư (dịch vụ CRL hoặc OCSP không trả lời).",
        "Hand the document in again later; nothing was stored.",
        "Nộp lại sau; chưa có gì được lưu."}},
      {"METADATA_INVALID",
       {"The record metadata is incomplete or not valid.", "Thông tin hồ sơ (siêu dữ liệu) chưa đầy đủ hoặc không hợp lệ.",
        "Correct the metadata shown in the reason and hand the document in again.",
        "Sửa thông tin nêu trong lý do rồi nộp lại."}},
      {"NAME_INVALID",
       {"A file name in the submission cannot be archived.", "Tên tệp trong hồ sơ nộp không lưu được.",
        "Rename the file (no folders, no control characters) and hand it in again.",
        "Đổi tên tệp (không chứa thư mục, ký tự điều khiển) rồi nộp lại."}},
      {"INPUT_UNUSABLE",
       {"The file could not be handed in as it is: a signature without its document, a metadata file without its "
        "document, or a file that is not a document.",
        "Không nộp được tệp này: chữ ký không kèm văn bản, tệp siêu dữ liệu không kèm văn bản, hoặc tệp không phải "
        "văn bản.",
        "Hand the file in together with the document it belongs to, named as the reason says.",
        "Nộp tệp cùng với văn bản mà nó thuộc về, đặt tên như lý do nêu."}},
  };
  auto it = kExplanations.find(category);
  if (it == kExplanations.end())
    return {std::string(page.T("The signature could not be shown to be trustworthy.",
                               "Không chứng minh được chữ ký là đáng tin cậy.")),
            std::string(page.T("Read the reason below; ask the administrator if it is not clear.",
                               "Đọc lý do bên dưới; hỏi quản trị viên nếu chưa rõ."))};
  const Both& b = it->second;
  return {page.lang == Lang::kEn ? b.what_en : b.what_vi, page.lang == Lang::kEn ? b.next_en : b.next_vi};
}

}  // namespace preserve::web
