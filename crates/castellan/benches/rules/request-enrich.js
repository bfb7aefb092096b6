function requestEnrich(user, context, callback) {
  const request = require('request');
  request.get({ url: configuration.CRM_URL + '/people', qs: { email: user.email }, json: true }, (err, response, body) => {
    if (err) return callback(err);
    context.idToken['https://example.com/tier'] = body.tier;
    callback(null, user, context);
  });
}
