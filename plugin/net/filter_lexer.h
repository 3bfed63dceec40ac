// Tokens of the flow filter language (filter.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

enum class TokenKind {
    Name, String, Int, LParen, RParen, Comma, Not,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual, And, Or,
    EndOfRule,  // ';' or a newline that does not continue the rule
    Invalid,    // text carries the reason
    End,
};

struct Token {
    TokenKind kind;
    std::string text;  // name, string value, digits, operator, or the reason (Invalid)
    unsigned line, column;
};

// Every token of `text`, ending with End. A newline right after an operator,
// '(' or ',' is dropped: the rule goes on on the next line.
std::vector<Token> lex_filter(std::string_view text);

const char *token_name(TokenKind kind);
