/// The frame of every page, and the pieces forms share. Mustache escapes every `{{value}}`
/// for HTML; no template uses the unescaped form, so nothing a user typed becomes markup.
enum LayoutTemplates {
    static let all: [String: String] = ["layout": layout, "field": field, "form-errors": formErrors]

    static let layout = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{$title}}Ward{{/title}} · Ward</title>
<link rel="stylesheet" href="{{shell.stylesheet}}">
<script src="{{shell.script}}" defer></script>
</head>
<body data-idle-seconds="{{shell.idleSeconds}}" data-home="{{shell.home}}">
<a class="skip" href="#main">Skip to main content</a>
<header class="top">
<p class="brand"><a href="{{shell.home}}">Ward</a>{{#shell.clinic}}<span class="clinic">{{shell.clinic}}</span>{{/shell.clinic}}</p>
{{#shell.signedIn}}
<nav aria-label="Main">
<ul>
{{#shell.nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>
{{/shell.nav}}
</ul>
</nav>
<form method="post" action="{{shell.signOutAction}}" class="sign-out">
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<span>{{shell.userName}}</span>
<button type="submit">Sign out</button>
</form>
{{/shell.signedIn}}
</header>
{{#shell.signedIn}}
<div id="idle-warning" class="idle-warning" role="alertdialog" aria-labelledby="idle-warning-text" hidden>
<p id="idle-warning-text">You will be signed out in a minute because the page has not been used.</p>
<button type="button">Stay signed in</button>
</div>
{{/shell.signedIn}}
<main id="main" tabindex="-1">
{{#shell.notice}}<p class="notice" role="status">{{shell.notice}}</p>{{/shell.notice}}
{{$main}}{{/main}}
</main>
</body>
</html>
"""#

    static let field = #"""
<div class="field">
<label for="{{id}}">{{label}}{{#required}} (required){{/required}}</label>
{{#isSelect}}
<select id="{{id}}" name="{{name}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/error}}>
{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{text}}</option>
{{/options}}
</select>
{{/isSelect}}
{{#isTextarea}}
<textarea id="{{id}}" name="{{name}}" rows="{{rows}}"{{#required}} required{{/required}}{{#error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/error}}{{^error}}{{#hint}} aria-describedby="{{id}}-hint"{{/hint}}{{/error}}>{{value}}</textarea>
{{/isTextarea}}
{{^isSelect}}{{^isTextarea}}
<input id="{{id}}" name="{{name}}" type="{{type}}" value="{{value}}"{{#autocomplete}} autocomplete="{{autocomplete}}"{{/autocomplete}}{{#required}} required{{/required}}{{#error}} aria-invalid="true" aria-describedby="{{id}}-error"{{/error}}{{^error}}{{#hint}} aria-describedby="{{id}}-hint"{{/hint}}{{/error}}>
{{/isTextarea}}{{/isSelect}}
{{#hint}}<p class="hint" id="{{id}}-hint">{{hint}}</p>{{/hint}}
{{#error}}<p class="field-error" id="{{id}}-error">{{error}}</p>{{/error}}
</div>
"""#

    static let formErrors = #"""
{{#problem}}
<div class="alert" role="alert" tabindex="-1" id="form-problem">
<p><strong>{{problem}}</strong></p>
{{#problemDetail}}<p>{{problemDetail}}</p>{{/problemDetail}}
</div>
{{/problem}}
"""#
}
