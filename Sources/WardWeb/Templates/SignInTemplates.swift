/// Signing in and the pages every visitor may see.
enum SignInTemplates {
    static let all: [String: String] = [
        "sign-in": signIn, "second-factor": secondFactor, "set-password": setPassword, "error": error, "forgot-password": forgotPassword,
    ]

    static let forgotPassword = #"""
{{<layout}}
{{$title}}Forgot your password?{{/title}}
{{$main}}
<div class="panel narrow">
<h1>Forgot your password?</h1>
{{#sent}}
<p role="status">If <strong>{{email}}</strong> belongs to an account of this clinic, a link to set a new password is on its way. It works once, for an hour.</p>
<p><a href="/app/sign-in">Back to sign in</a></p>
{{/sent}}
{{^sent}}
<p>Enter your clinic and the email you sign in with: we send a link to set a new password.</p>
{{>form-errors}}
<form method="post" action="/app/forgot-password" novalidate>
<input type="hidden" name="_csrf" value="{{formToken}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Send the link</button>
</form>
<p><a href="/app/sign-in">Back to sign in</a></p>
{{/sent}}
</div>
{{/main}}
{{/layout}}
"""#

    static let setPassword = #"""
{{<layout}}
{{$title}}Set your password{{/title}}
{{$main}}
<div class="panel narrow">
<h1>Set your password</h1>
<p>Choose a password of at least {{minimumLength}} characters. A long phrase of unrelated words is strong and easy to remember; it must not contain your name or email.</p>
{{>form-errors}}
<form method="post" action="/app/set-password" novalidate>
<input type="hidden" name="_csrf" value="{{formToken}}">
<input type="hidden" name="token" value="{{token}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Set password</button>
</form>
</div>
{{/main}}
{{/layout}}
"""#

    static let signIn = #"""
{{<layout}}
{{$title}}Sign in{{/title}}
{{$main}}
<div class="panel narrow">
<h1>Sign in</h1>
{{>form-errors}}
<form method="post" action="/app/sign-in" novalidate>
<input type="hidden" name="_csrf" value="{{formToken}}">
<input type="hidden" name="next" value="{{next}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Sign in</button>
</form>
<p><a href="/app/forgot-password">Forgot your password?</a></p>
</div>
{{/main}}
{{/layout}}
"""#

    static let secondFactor = #"""
{{<layout}}
{{$title}}Enter your code{{/title}}
{{$main}}
<div class="panel narrow">
<h1>Enter your code</h1>
<p>Your account is protected by a second factor. Enter the six-digit code from your authenticator app, or one of your recovery codes.</p>
{{>form-errors}}
<form method="post" action="/app/sign-in/code" novalidate>
<input type="hidden" name="_csrf" value="{{formToken}}">
<input type="hidden" name="ticket" value="{{ticket}}">
<input type="hidden" name="next" value="{{next}}">
{{#fields}}{{>field}}{{/fields}}
<button type="submit">Continue</button>
</form>
<p><a href="/app/sign-in">Start again</a></p>
</div>
{{/main}}
{{/layout}}
"""#

    static let error = #"""
{{<layout}}
{{$title}}{{heading}}{{/title}}
{{$main}}
<div class="panel">
<h1>{{heading}}</h1>
<p>{{message}}</p>
<p><a href="{{back}}">{{backLabel}}</a></p>
{{#requestID}}<p class="hint">If you ask for help, quote this reference: {{requestID}}</p>{{/requestID}}
</div>
{{/main}}
{{/layout}}
"""#
}
